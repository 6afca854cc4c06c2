"""A profile counts the photos its grid shows: ready and not hidden, on the page and the API."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.factories import PhotoFactory, UserFactory, api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    """A user with two visible photos, one hidden by a moderator and one still processing."""
    user = UserFactory(username="mira")
    PhotoFactory.create_batch(2, owner=user)
    PhotoFactory(owner=user, hidden_at=timezone.now())
    PhotoFactory(owner=user, status="pending")
    return user


def test_the_profile_page_counts_only_the_photos_its_grid_shows(client, owner):
    html = client.get("/u/mira/").content.decode()
    assert "<span data-photo-count>2</span> photos" in html


def test_the_api_counts_only_visible_photos_in_a_profile_and_a_search(owner):
    assert api_client().get("/api/v1/users/mira/").json()["photo_count"] == 2
    found = api_client().get("/api/v1/users/", {"q": "mira"}).json()
    assert [profile["photo_count"] for profile in found] == [2]


def test_a_user_without_photos_counts_zero():
    UserFactory(username="noor")
    assert api_client().get("/api/v1/users/noor/").json()["photo_count"] == 0
