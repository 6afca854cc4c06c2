"""API tokens: several named ones per user, revoked with the password, refused once revoked."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken, User
from apps.accounts.services import API_TOKENS_PER_USER, api_token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another long passphrase 42"


def me(key: str) -> int:
    """The status of a request signed in with ``key``, as API clients send it."""
    return APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def obtain(username: str, password: str, **extra: str):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password, **extra}
    )


def test_a_password_gets_a_named_token_whose_key_is_not_stored():
    UserFactory(username="ada", password=PASSWORD)
    response = obtain("ada", PASSWORD, name="backup script")
    assert response.status_code == 200
    key = response.json()["token"]
    assert re.fullmatch(r"[0-9a-f]{40}", key), "the shape earlier tokens had"
    assert me(key) == 200
    token = ApiToken.objects.get()
    assert (token.name, token.prefix) == ("backup script", key[:8])
    assert not ApiToken.objects.filter(digest__contains=key).exists()
    assert key not in str(list(ApiToken.objects.values()))


def test_wrong_credentials_get_no_token():
    UserFactory(username="ada", password=PASSWORD)
    response = obtain("ada", "guess")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Unable to log in with provided credentials."
    assert not ApiToken.objects.exists()


def test_each_client_gets_its_own_token_and_the_settings_page_lists_them(client):
    ada = UserFactory(username="ada", password=PASSWORD)
    phone, laptop = (
        obtain("ada", PASSWORD, name=name).json()["token"] for name in ("phone", "laptop")
    )
    assert me(phone) == 200
    assert me(laptop) == 200
    client.force_login(ada)
    html = client.get("/settings/tokens/").content.decode()
    assert "phone" in html
    assert "laptop" in html
    assert phone[:8] in html
    assert phone not in html, "only a prefix is shown"


def test_a_token_made_on_the_settings_page_is_shown_once_and_works(client):
    client.force_login(UserFactory())
    page = client.post("/settings/tokens/", {"name": "cron job"})
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    key = re.search(r"<code data-new-token>([0-9a-f]{40})</code>", page.content.decode())[1]
    assert me(key) == 200
    assert key not in client.get("/settings/tokens/").content.decode()


def test_a_token_revoked_on_the_settings_page_is_refused_on_the_next_request(client):
    ada = UserFactory()
    token, key = api_token_create(user=ada, name="old script")
    _, kept = api_token_create(user=ada, name="new script")
    assert me(key) == 200
    client.force_login(ada)
    assert client.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 302
    assert me(key) == 401
    assert me(kept) == 200


def test_nobody_revokes_someone_elses_token(client):
    token, key = api_token_create(user=UserFactory(), name="theirs")
    client.force_login(UserFactory())
    assert client.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 404
    assert me(key) == 200


def test_changing_the_password_on_the_page_revokes_every_token(client):
    ada = UserFactory(password=PASSWORD)
    keys = [api_token_create(user=ada, name=name)[1] for name in ("a", "b")]
    client.force_login(ada)
    response = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert [me(key) for key in keys] == [401, 401]
    assert obtain(ada.username, NEW_PASSWORD).status_code == 200


def test_a_password_reset_by_email_revokes_every_token(client):
    ada = UserFactory(email="ada@example.com", password=PASSWORD)
    _, key = api_token_create(user=ada, name="script")
    client.post("/accounts/password/reset/", {"email": "ada@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body)[1]
    form_page = client.get(link, follow=True)
    assert me(key) == 200, "asking for a reset changes nothing yet"
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert User.objects.get(pk=ada.pk).check_password(NEW_PASSWORD)
    assert me(key) == 401


def admin_client(client) -> None:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))


def test_the_admins_change_password_form_revokes_the_users_tokens(client):
    ada = UserFactory()
    _, key = api_token_create(user=ada, name="script")
    admin_client(client)
    response = client.post(
        f"/admin/accounts/user/{ada.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=ada.pk).check_password(NEW_PASSWORD)
    assert me(key) == 401


def user_form(user: User, **changes: object) -> dict[str, object]:
    """The admin's user change form as submitted unchanged, but for ``changes``."""
    joined = timezone.localtime(user.date_joined)
    data = {
        "username": user.username, "email": user.email, "first_name": "", "last_name": "",
        "date_joined_0": joined.strftime("%Y-%m-%d"), "date_joined_1": joined.strftime("%H:%M:%S"),
        "is_active": "on",
    }  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_deactivating_in_the_admin_revokes_the_users_tokens(client):
    ada = UserFactory()
    _, key = api_token_create(user=ada, name="script")
    admin_client(client)
    url = f"/admin/accounts/user/{ada.pk}/change/"
    edited = client.post(url, user_form(ada, email="ada@example.org"))
    assert edited.status_code == 302, edited.content[:2000]
    assert me(key) == 200, "editing other fields keeps the tokens"
    deactivated = client.post(url, user_form(ada, is_active=None))
    assert deactivated.status_code == 302
    assert User.objects.get(pk=ada.pk).is_active is False
    assert me(key) == 401
    assert not ApiToken.objects.filter(user=ada).exists()


def test_deactivating_with_the_orm_revokes_the_users_tokens():
    ada = UserFactory()
    _, key = api_token_create(user=ada, name="script")
    ada.is_active = False
    ada.save()
    assert me(key) == 401
    assert not ApiToken.objects.filter(user=ada).exists()


def test_set_password_and_set_unusable_password_revoke_tokens():
    ada = UserFactory()
    _, first = api_token_create(user=ada, name="a")
    ada.set_password(NEW_PASSWORD)
    ada.save(update_fields=["password"])
    assert me(first) == 401
    _, second = api_token_create(user=ada, name="b")
    ada.set_unusable_password()
    ada.save()
    assert me(second) == 401


def test_a_hash_upgrade_at_login_and_the_last_login_stamp_keep_the_tokens(client):
    # A hash with a short salt is re-hashed at the next login: the same password, stored
    # anew. That is not a password change.
    ada = UserFactory(username="ada")
    User.objects.filter(pk=ada.pk).update(password=make_password(PASSWORD, "ab", "md5"))
    _, key = api_token_create(user=ada, name="script")
    assert (
        client.post("/accounts/login/", {"username": "ada", "password": PASSWORD}).status_code
        == 302
    )
    assert User.objects.get(pk=ada.pk).password != make_password(PASSWORD, "ab", "md5")
    assert me(key) == 200


def test_tokens_expire_after_the_configured_lifetime(settings):
    ada = UserFactory()
    token, key = api_token_create(user=ada, name="script")
    ApiToken.objects.filter(pk=token.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert me(key) == 200, "no lifetime set: tokens do not expire"
    settings.PINSTABLR_TOKEN_LIFETIME_DAYS = 30
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Token has expired."
    _, fresh = api_token_create(user=ada, name="fresh")
    assert me(fresh) == 200


def test_an_inactive_users_token_is_refused_even_if_it_survived():
    ada = UserFactory()
    _, key = api_token_create(user=ada, name="script")
    User.objects.filter(pk=ada.pk).update(is_active=False)  # no signal: bypasses the revocation
    assert me(key) == 401


def test_last_used_is_recorded_without_sending_the_client_to_the_primary(
    django_assert_max_num_queries,
):
    token, key = api_token_create(user=UserFactory(), name="script")
    assert token.last_used_at is None
    response = APIClient().get("/api/v1/photos/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert "pinstablr_rw" not in response.cookies, "a read stays a read"
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    with django_assert_max_num_queries(3):  # the token with its user, the page: no update
        APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first


def test_a_user_keeps_the_most_recently_active_tokens_up_to_the_limit():
    ada = UserFactory()
    _, first_key = api_token_create(user=ada, name="first")
    for number in range(API_TOKENS_PER_USER):
        if number == API_TOKENS_PER_USER // 2:
            me(first_key)  # used after half the others were made: more recent than they are
        api_token_create(user=ada, name=f"token {number}")
    names = set(ApiToken.objects.filter(user=ada).values_list("name", flat=True))
    assert len(names) == API_TOKENS_PER_USER
    assert "first" in names
    assert "token 0" not in names
    assert f"token {API_TOKENS_PER_USER - 1}" in names


def test_keys_of_the_earlier_one_per_user_tokens_keep_working():
    ada = UserFactory()
    old_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            'CREATE TABLE "authtoken_token" ("key" varchar(40) PRIMARY KEY, '
            '"created" datetime NOT NULL, "user_id" integer NOT NULL)'
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
            [old_key, "2024-05-01 10:00:00", ada.pk],
        )
    migration = importlib.import_module("apps.accounts.migrations.0006_copy_authtoken_tokens")
    from django.apps import apps

    migration.copy_tokens(apps, SimpleNamespace(connection=connection))
    assert me(old_key) == 200
    token = ApiToken.objects.get(user=ada)
    assert (token.prefix, token.created_at.year) == ("01234567", 2024)
