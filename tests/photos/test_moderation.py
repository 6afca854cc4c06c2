"""Ops moderators hide photos with a reason the owner sees; nobody else sees them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.photos.models import Photo
from tests.factories import PhotoFactory, UserFactory, api_client, team_member

pytestmark = pytest.mark.django_db


def test_a_hidden_photo_disappears_for_everyone_but_its_owner_and_the_moderators(
    django_capture_on_commit_callbacks,
):
    photo = PhotoFactory()
    moderator, stranger = team_member("ops"), UserFactory()
    # Warm every cache first: hiding must take effect on the next request anyway.
    assert api_client().get(f"/api/v1/photos/{photo.pk}/").status_code == 200
    assert api_client().get(f"/p/{photo.pk}/").status_code == 200
    assert [p["id"] for p in api_client().get("/api/v1/photos/").json()["results"]] == [photo.pk]

    with django_capture_on_commit_callbacks(execute=True):  # the cache versions move on commit
        response = api_client(moderator).put(
            f"/api/v1/photos/{photo.pk}/moderation/", {"reason": "Copyright claim"}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["hidden_reason"] == "Copyright claim"

    assert api_client().get(f"/api/v1/photos/{photo.pk}/").status_code == 404
    assert api_client(stranger).get(f"/api/v1/photos/{photo.pk}/").status_code == 404
    assert api_client().get(f"/p/{photo.pk}/").status_code == 404
    assert api_client().get("/api/v1/photos/").json()["results"] == []
    assert api_client().get("/api/v1/explore/").json()["results"] == []
    owner_view = api_client(photo.owner).get(f"/api/v1/photos/{photo.pk}/")
    assert owner_view.json()["hidden_reason"] == "Copyright claim"
    owner_page = APIClient()
    owner_page.force_login(photo.owner)
    assert (
        "Hidden by the moderators: Copyright claim"
        in owner_page.get(f"/p/{photo.pk}/").content.decode()
    )
    assert api_client(moderator).get(f"/api/v1/photos/{photo.pk}/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert (
            api_client(moderator).delete(f"/api/v1/photos/{photo.pk}/moderation/").status_code
            == 200
        )
    assert api_client().get(f"/api/v1/photos/{photo.pk}/").json()["hidden_reason"] == ""


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_hiding_needs_a_reason_of_at_most_500_characters(reason):
    photo = PhotoFactory()
    response = api_client(team_member("ops")).put(
        f"/api/v1/photos/{photo.pk}/moderation/", {"reason": reason}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    assert Photo.objects.get(pk=photo.pk).hidden_at is None


def test_only_moderators_hide_photos_and_owners_cannot_unhide_their_own():
    photo = PhotoFactory()
    for user in (UserFactory(), photo.owner, team_member("ux"), team_member("marketing")):
        assert (
            api_client(user)
            .put(f"/api/v1/photos/{photo.pk}/moderation/", {"reason": "no"}, format="json")
            .status_code
            == 403
        )
    api_client(team_member("ops")).put(
        f"/api/v1/photos/{photo.pk}/moderation/", {"reason": "Spam"}, format="json"
    )
    assert (
        api_client(photo.owner).delete(f"/api/v1/photos/{photo.pk}/moderation/").status_code == 403
    )
    assert Photo.objects.get(pk=photo.pk).hidden_reason == "Spam"


def test_the_photo_page_offers_moderators_a_form_and_says_what_happened(client):
    photo = PhotoFactory()
    client.force_login(team_member("ops"))
    page = client.get(f"/p/{photo.pk}/").content.decode()
    assert "Reason for hiding" in page
    response = client.post(f"/p/{photo.pk}/moderate/", {"reason": ""}, follow=True)
    assert "Say why the photo is hidden" in response.content.decode()
    assert Photo.objects.get(pk=photo.pk).hidden_at is None
    response = client.post(f"/p/{photo.pk}/moderate/", {"reason": "Spam"}, follow=True)
    assert "its owner sees your reason" in response.content.decode()
    assert Photo.objects.get(pk=photo.pk).hidden_reason == "Spam"
    client.post(f"/p/{photo.pk}/moderate/", {"restore": "1"})
    assert Photo.objects.get(pk=photo.pk).hidden_at is None


def test_the_admin_action_asks_for_a_reason_then_hides_the_selected_photos(client):
    photos = PhotoFactory.create_batch(2)
    client.force_login(team_member("ops"))
    selected = {"action": "hide_photos", "_selected_action": [p.pk for p in photos]}
    asked = client.post("/admin/photos/photo/", selected)
    assert asked.status_code == 200
    assert "Reason (required" in asked.content.decode()
    done = client.post("/admin/photos/photo/", {**selected, "confirm": "yes", "reason": "Spam"})
    assert done.status_code == 302
    assert Photo.objects.filter(hidden_reason="Spam").count() == 2
    restored = client.post(
        "/admin/photos/photo/", {"action": "restore_photos", "_selected_action": [photos[0].pk]}
    )
    assert restored.status_code == 302
    assert Photo.objects.filter(hidden_at__isnull=True).count() == 1
