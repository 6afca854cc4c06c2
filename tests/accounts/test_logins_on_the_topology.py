"""Tokens and the login lockout on the real topology: gunicorn with two workers on MariaDB.

Each worker is its own process: a revoked token and a lock must hold whichever worker
answers the next request (the database and the shared cache are all they have in common).
"""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.processes import manage
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
