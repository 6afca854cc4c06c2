"""Sign up, log in (throttled), password reset, profile settings."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from apps.accounts.models import Profile, User
from tests.factories import PhotoFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def test_signing_up_logs_you_in_and_takes_you_to_upload(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "mira",
            "email": "mira@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/upload/"
    assert client.get("/upload/").status_code == 200
    assert Profile.objects.filter(user__username="mira").exists()


def test_signup_explains_what_is_wrong(client):
    UserFactory(username="mira")
    html = client.post(
        "/accounts/signup/", {"username": "mira", "email": "x", "password1": "a", "password2": "b"}
    ).content.decode()
    assert "A user with that username already exists." in html
    assert "Enter a valid email address." in html


def test_login_and_logout(client):
    UserFactory(username="ada", password=PASSWORD)
    response = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/settings/profile/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/settings/profile/").status_code == 302


def test_repeated_failed_logins_are_refused_even_with_the_right_password(client, settings):
    settings.PINSTABLR_LOGIN_FAILURES_PER_USER = 3
    UserFactory(username="ada", password=PASSWORD)
    for _ in range(3):
        html = client.post("/accounts/login/", {"username": "ada", "password": "guess"}).content
        assert b"Please enter a correct username and password" in html
    blocked = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})
    assert blocked.status_code == 200
    assert b"Too many failed attempts" in blocked.content
    assert "_auth_user_id" not in client.session


def test_a_password_reset_sends_a_link_that_works(client):
    UserFactory(username="ada", email="ada@example.com", password=PASSWORD)
    client.post("/accounts/password/reset/", {"email": "ada@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body)[1]
    form_page = client.get(link, follow=True)
    new_password = "another long passphrase 42"
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert User.objects.get(username="ada").check_password(new_password)


def test_profile_settings_change_name_bio_and_picture(client):
    me = UserFactory()
    mine, theirs = PhotoFactory(owner=me), PhotoFactory()
    client.force_login(me)
    response = client.post(
        "/settings/profile/", {"display_name": "Me", "bio": "Hello", "avatar": str(mine.id)}
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=me)
    assert (profile.display_name, profile.bio, profile.avatar_id) == ("Me", "Hello", mine.id)
    refused = client.post("/settings/profile/", {"display_name": "Me", "avatar": str(theirs.id)})
    assert refused.status_code == 200, "someone else's photo is not a choice"
    assert Profile.objects.get(user=me).avatar_id == mine.id
