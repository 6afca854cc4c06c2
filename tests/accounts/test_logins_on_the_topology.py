"""Tokens and the login lockout on the real topology: gunicorn with two workers on MariaDB.

Each worker is its own process: a revoked token and a lock must hold whichever worker
answers the next request (the database and the shared cache are all they have in common).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.processes import manage, start_gunicorn, stop
from tests.topology import AppServer

pytestmark = [pytest.mark.mysql, pytest.mark.slow]

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another long passphrase 42"
FAILURES_PER_USER = 5  # PINSTABLR_LOGIN_FAILURES_PER_USER's default; the server does not set it


def create_user(server: AppServer, *, staff: bool = False) -> str:
    username = f"login-{uuid.uuid4().hex[:10]}"
    manage(
        server.env, "shell", "-c",
        "from apps.accounts.models import User\n"
        f"User.objects.create_user(username={username!r}, password={PASSWORD!r}, "
        f"is_staff={staff}, is_superuser={staff})\n",
    )  # fmt: skip
    return username


def page_post(session: requests.Session, url: str, data: dict[str, str], **kwargs):
    """POST a form as a browser does: with the CSRF cookie's token, not following redirects."""
    if "csrftoken" not in session.cookies:
        session.get(url, timeout=15)
    data = {**data, "csrfmiddlewaretoken": session.cookies["csrftoken"]}
    return session.post(url, data=data, allow_redirects=False, timeout=15, **kwargs)


def test_a_token_stops_working_once_the_password_is_changed(app_server):
    username = create_user(app_server)
    obtained = requests.post(
        app_server.url + "/api/v1/auth/token/",
        json={"username": username, "password": PASSWORD, "name": "script"},
        timeout=15,
    )
    assert obtained.status_code == 200, obtained.text
    token = {"Authorization": f"Token {obtained.json()['token']}"}
    for _ in range(4):  # both workers
        assert app_server.get("/api/v1/me/", headers=token).status_code == 200

    browser = requests.Session()
    login_url = app_server.url + "/accounts/login/"
    signed_in = page_post(browser, login_url, {"username": username, "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.text[:500]
    changed = page_post(
        browser,
        app_server.url + "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302, changed.text[:500]

    for _ in range(4):
        assert app_server.get("/api/v1/me/", headers=token).status_code == 401


def test_the_admin_login_locks_after_repeated_failures(app_server):
    username = create_user(app_server, staff=True)
    url = app_server.url + "/admin/login/?next=/admin/"
    browser = requests.Session()
    for _ in range(FAILURES_PER_USER):
        refused = page_post(browser, url, {"username": username, "password": "guess"})
        assert refused.status_code == 200
        assert b"Please enter the correct username and password" in refused.content
    blocked = page_post(browser, url, {"username": username, "password": PASSWORD})
    assert blocked.status_code == 200
    assert b"Too many failed attempts" in blocked.content
    assert "sessionid" not in browser.cookies
    # Without a proxy of ours in front, naming another address changes nothing.
    spoofed = page_post(
        browser, url, {"username": username, "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.77"},
    )  # fmt: skip
    assert b"Too many failed attempts" in spoofed.content
    assert "sessionid" not in browser.cookies


METRICS_TOKEN = "topology-metrics-token-for-the-test"


@pytest.fixture(scope="module")
def behind_proxy(migrated) -> Iterator[AppServer]:
    """gunicorn as it runs behind nginx: one proxy of ours, a metrics token for the scraper."""
    env = {**migrated, "PINSTABLR_NUM_PROXIES": "1", "PINSTABLR_METRICS_TOKEN": METRICS_TOKEN}
    server, url = start_gunicorn(env)
    yield AppServer(url=url, env=env, tokens={})
    stop(server)


def test_behind_the_proxy_a_stranger_locks_only_himself_out(behind_proxy):
    username = create_user(behind_proxy)
    url = behind_proxy.url + "/accounts/login/"
    stranger, owner = requests.Session(), requests.Session()
    stranger.headers["X-Forwarded-For"] = "203.0.113.7"
    owner.headers["X-Forwarded-For"] = "198.51.100.9"
    for _ in range(FAILURES_PER_USER):
        assert (
            page_post(stranger, url, {"username": username, "password": "guess"}).status_code == 200
        )
    locked = page_post(stranger, url, {"username": username, "password": PASSWORD})
    assert b"Too many failed attempts" in locked.content
    # Every request reaches gunicorn from the same loopback address, as from nginx: the
    # owner is told apart by the address nginx saw, and signs in.
    assert page_post(owner, url, {"username": username, "password": PASSWORD}).status_code == 302
    # A stranger cannot pick the owner's address: the proxy appends the real one, last.
    spoofer = requests.Session()
    spoofer.headers["X-Forwarded-For"] = "198.51.100.9, 203.0.113.7"
    spoofed = page_post(spoofer, url, {"username": username, "password": PASSWORD})
    assert b"Too many failed attempts" in spoofed.content


def test_readyz_tells_anyone_the_status_and_only_ops_the_checks(behind_proxy):
    public = behind_proxy.get("/readyz")
    assert public.status_code == 200
    assert public.json() == {"status": "ok"}
    scraper = behind_proxy.get("/readyz", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraper.json()["status"] == "ok"
    assert {"primary", "replicas"} <= set(scraper.json()["checks"])
    username = create_user(behind_proxy)
    manage(
        behind_proxy.env, "shell", "-c",
        "from apps.accounts.models import User\nfrom tests.factories import team\n"
        "from apps.teams.services import team_add_member\n"
        f"team_add_member(team=team('ops'), user=User.objects.get(username={username!r}))\n",
    )  # fmt: skip
    ops = requests.Session()
    page_post(
        ops, behind_proxy.url + "/accounts/login/", {"username": username, "password": PASSWORD}
    )
    detail = ops.get(behind_proxy.url + "/readyz", timeout=15).json()
    assert {"primary", "replicas", "cache", "broker"} <= set(detail["checks"])
    stranger = requests.Session()
    other = create_user(behind_proxy)
    page_post(
        stranger, behind_proxy.url + "/accounts/login/", {"username": other, "password": PASSWORD}
    )
    assert stranger.get(behind_proxy.url + "/readyz", timeout=15).json() == {"status": "ok"}
