"""The login lockout every path shares: the site's page, the admin's, the API's token endpoint.

See apps/accounts/security.py for the policy and why it is shaped so.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts import security
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
LIMIT = 3


@pytest.fixture(autouse=True)
def _three_failures(settings):
    settings.PINSTABLR_LOGIN_FAILURES_PER_USER = LIMIT


@pytest.fixture
def clock(monkeypatch):
    """The lockout's clock, moved by hand (the cache's own expiry keeps real time)."""
    now = SimpleNamespace(value=1_800_000_000.0)
    monkeypatch.setattr(security, "time", SimpleNamespace(time=lambda: now.value))
    return now


def page_login(username: str, password: str, address: str = "198.51.100.1", **headers: str):
    """Sign in on the login page; the client's response (signed in or not: ``.signed_in``)."""
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post("/accounts/login/", {"username": username, "password": password})
    response.signed_in = "_auth_user_id" in client.session
    return response


def token_login(username: str, password: str, address: str = "198.51.100.1", **headers: str):
    return APIClient(REMOTE_ADDR=address, **headers).post(
        "/api/v1/auth/token/", {"username": username, "password": password}
    )


def admin_login(username: str, password: str, address: str = "198.51.100.1"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    response.signed_in = "_auth_user_id" in client.session
    return response


def test_failures_on_the_login_page_lock_the_token_endpoint_too():
    UserFactory(username="ada", password=PASSWORD)
    for _ in range(LIMIT):
        assert not page_login("ada", "guess").signed_in
    refused = token_login("ada", PASSWORD)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "too_many_attempts"
    assert error["message"].startswith("Too many failed attempts. Try again in 15 minutes")
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    page = page_login("ada", PASSWORD)
    assert not page.signed_in
    assert error["message"] in page.content.decode(), "the same message on both"


def test_failures_on_the_token_endpoint_lock_the_login_page_too():
    UserFactory(username="ada", password=PASSWORD)
    assert [token_login("ada", "guess").status_code for _ in range(LIMIT + 1)] == [
        400,
        400,
        400,
        429,
    ]
    blocked = page_login("ada", PASSWORD)
    assert not blocked.signed_in
    assert b"Too many failed attempts" in blocked.content


def test_the_admin_login_locks_after_the_same_number_of_failures():
    UserFactory(username="root", password=PASSWORD, is_staff=True, is_superuser=True)
    for _ in range(LIMIT):
        assert not admin_login("root", "guess").signed_in
    blocked = admin_login("root", PASSWORD)
    assert not blocked.signed_in
    assert blocked.status_code == 200
    assert b"Too many failed attempts" in blocked.content
    assert admin_login("root", PASSWORD, address="198.51.100.2").signed_in, "the admin elsewhere"


def test_the_admin_login_and_the_site_login_share_counters():
    UserFactory(username="root", password=PASSWORD, is_staff=True, is_superuser=True)
    page_login("root", "guess")
    token_login("root", "guess")
    admin_login("root", "guess")
    assert not admin_login("root", PASSWORD).signed_in


def test_a_success_forgets_the_earlier_failures_of_that_client():
    UserFactory(username="ada", password=PASSWORD)
    for _ in range(LIMIT - 1):
        page_login("ada", "guess")
    assert page_login("ada", PASSWORD).signed_in
    for _ in range(LIMIT - 1):
        page_login("ada", "guess")
    assert page_login("ada", PASSWORD).signed_in


def test_a_strangers_failures_from_one_address_do_not_lock_the_user_out_from_another():
    UserFactory(username="ada", password=PASSWORD)
    for _ in range(LIMIT * 3):  # well past the limit, hammering the lock
        page_login("ada", "guess", address="203.0.113.66")
    assert not page_login("ada", PASSWORD, address="203.0.113.66").signed_in
    assert page_login("ada", PASSWORD, address="198.51.100.1").signed_in
    assert token_login("ada", PASSWORD, address="198.51.100.1").status_code == 200


@pytest.fixture
def behind_one_proxy(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


PROXY = "10.0.0.5"  # the load balancer: every request's REMOTE_ADDR


def test_behind_the_proxy_each_client_is_counted_on_its_own_address(behind_one_proxy):
    UserFactory(username="ada", password=PASSWORD)
    stranger = {"HTTP_X_FORWARDED_FOR": "203.0.113.66"}
    for _ in range(LIMIT):
        page_login("ada", "guess", address=PROXY, **stranger)
    assert token_login("ada", PASSWORD, address=PROXY, **stranger).status_code == 429
    owner = {"HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    assert page_login("ada", PASSWORD, address=PROXY, **owner).signed_in
    assert token_login("ada", PASSWORD, address=PROXY, **owner).status_code == 200


def test_behind_the_proxy_a_client_cannot_pick_its_address(behind_one_proxy):
    # The proxy appends the address it saw; only that last entry is believed.
    UserFactory(username="ada", password=PASSWORD)
    for number in range(LIMIT):
        forged = {"HTTP_X_FORWARDED_FOR": f"192.0.2.{number}, 203.0.113.66"}
        page_login("ada", "guess", address=PROXY, **forged)
    again = {"HTTP_X_FORWARDED_FOR": "192.0.2.99, 203.0.113.66"}
    assert token_login("ada", PASSWORD, address=PROXY, **again).status_code == 429


def test_without_a_proxy_a_forwarded_for_header_changes_nothing():
    UserFactory(username="ada", password=PASSWORD)
    for number in range(LIMIT):
        page_login("ada", "guess", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")
    fresh_header = token_login("ada", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert fresh_header.status_code == 429, "still the same socket address"
    # ...and a stranger cannot spend someone else's budget by naming their address.
    assert page_login("ada", PASSWORD, address="198.51.100.2").signed_in


def test_one_address_guessing_many_names_is_locked_for_every_name():
    UserFactory(username="ada", password=PASSWORD)
    for number in range(LIMIT * 4):
        page_login(f"name{number}", "guess", address="203.0.113.66")
    assert token_login("ada", PASSWORD, address="203.0.113.66").status_code == 429
    assert token_login("ada", PASSWORD, address="198.51.100.1").status_code == 200


def test_guessing_from_many_addresses_only_slows_the_name_down_for_a_minute_at_most(clock):
    UserFactory(username="ada", password=PASSWORD)
    assert page_login("ada", PASSWORD, address="198.51.100.1").signed_in  # her usual address
    for number in range(LIMIT * 4 + 10):  # a botnet: each address stays under its own limit
        page_login("ada", "guess", address=f"203.0.113.{number}")
    new_address = token_login("ada", PASSWORD, address="192.0.2.1")
    assert new_address.status_code == 429
    assert 0 < int(new_address["Retry-After"]) <= 60
    assert page_login("ada", PASSWORD, address="198.51.100.1").signed_in, "her address is spared"
    clock.value += 61
    assert token_login("ada", PASSWORD, address="192.0.2.1").status_code == 200


def test_the_names_delay_doubles_with_each_failure_up_to_the_cap(clock):
    UserFactory(username="ada", password=PASSWORD)
    waits = []
    for number in range(LIMIT * 4 + 8):
        response = token_login("ada", "guess", address=f"203.0.113.{number}")
        if response.status_code == 429:
            waits.append(int(response["Retry-After"]))
            clock.value += waits[-1]  # the next guess comes as soon as it is allowed
            token_login("ada", "guess", address=f"203.0.113.{number}")
    assert waits[:6] == [2, 4, 8, 16, 32, 60]
    assert set(waits[6:]) == {60}


def test_attempts_refused_while_locked_do_not_lengthen_the_lock(clock):
    UserFactory(username="ada", password=PASSWORD)
    for _ in range(LIMIT):
        page_login("ada", "guess")
    first = int(token_login("ada", PASSWORD)["Retry-After"])
    clock.value += 60
    for _ in range(10):
        page_login("ada", "guess")
    assert int(token_login("ada", PASSWORD)["Retry-After"]) == first - 60


def test_authenticate_without_a_request_is_counted_as_well(settings):
    from django.contrib.auth import authenticate

    UserFactory(username="ada", password=PASSWORD)
    for _ in range(LIMIT):
        assert authenticate(username="ada", password="guess") is None
    assert authenticate(username="ada", password=PASSWORD) is None
