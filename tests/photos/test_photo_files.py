"""A photo's files follow who may see it: a hidden or deleted photo's files answer 404 on the
next request, its owner and the moderators still see a hidden one (never cached), and a
restored photo's files come back under new URLs."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from apps.photos import storage
from apps.photos.models import Photo, Rendition
from apps.photos.services import photo_create, photo_encode_avif, photo_process
from tests.factories import UserFactory, api_client, team_member

from . import samples
from .conftest import stored_files

pytestmark = pytest.mark.django_db


def ready_photo(capture, owner=None, data: bytes | None = None) -> Photo:
    """A photo through the real pipeline: its renditions are files in the storage."""
    data = data or samples.jpeg((700, 500))
    upload = SimpleUploadedFile("photo.jpg", data)
    photo, _ = photo_create(owner=owner or UserFactory(), upload=upload, size=len(data))
    with capture(execute=True):
        photo_process(photo_id=photo.pk)
    return Photo.objects.get(pk=photo.pk)


def api_urls(client, photo: Photo) -> list[str]:
    """The rendition URLs the API gives this client."""
    response = client.get(f"/api/v1/photos/{photo.pk}/")
    assert response.status_code == 200
    return [rendition["url"] for rendition in response.json()["renditions"]]


def signed_in(user) -> Client:
    """A browser's session: images are fetched with its cookie, not with an API token."""
    client = Client()
    client.force_login(user)
    return client


def statuses(client: Client, urls: list[str]) -> set[int]:
    return {client.get(url).status_code for url in urls}


def hide(photo: Photo, capture, moderator=None) -> None:
    with capture(execute=True):
        response = api_client(moderator or team_member("ops")).put(
            f"/api/v1/photos/{photo.pk}/moderation/", {"reason": "Copyright claim"}, format="json"
        )
    assert response.status_code == 200


def restore(photo: Photo, capture, moderator=None) -> None:
    with capture(execute=True):
        response = api_client(moderator or team_member("ops")).delete(
            f"/api/v1/photos/{photo.pk}/moderation/"
        )
    assert response.status_code == 200


def test_a_hidden_photos_files_404_for_everyone_on_the_next_request(
    django_capture_on_commit_callbacks, settings
):
    capture = django_capture_on_commit_callbacks
    photo = ready_photo(capture)
    public = api_urls(api_client(), photo)
    assert len(public) == 6  # 256, 640 and 700 wide, in WebP and JPEG
    served = Client().get(public[0])
    assert served.status_code == 200
    assert served["Cache-Control"] == settings.RENDITION_CACHE_CONTROL
    assert "s-maxage=600" in served["Cache-Control"], "shared caches keep it 10 minutes"

    hide(photo, capture)

    stranger = signed_in(UserFactory())
    for client in (Client(), stranger, signed_in(photo.owner)):
        assert statuses(client, public) == {404}, "not even its owner gets the public URLs"
    assert api_client().get(f"/api/v1/photos/{photo.pk}/").status_code == 404


def test_its_owner_and_the_moderators_still_see_a_hidden_photo_never_cached(
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    photo = ready_photo(capture)
    moderator = team_member("ops")
    hide(photo, capture, moderator)

    hidden = api_urls(api_client(photo.owner), photo)
    assert all(url.startswith(f"/media/hidden/{photo.pk}/") for url in hidden)
    assert api_urls(api_client(moderator), photo) == hidden
    page = signed_in(photo.owner).get(f"/p/{photo.pk}/").content.decode()
    assert hidden[0] in page
    for client in (signed_in(photo.owner), signed_in(moderator)):
        for url in hidden:
            response = client.get(url)
            assert response.status_code == 200
            assert response["Cache-Control"] == "private, no-store"
            assert response["X-Content-Type-Options"] == "nosniff"
            assert b"".join(response.streaming_content)[:2] in (b"\xff\xd8", b"RI")
    for client in (Client(), signed_in(UserFactory()), signed_in(team_member("ux"))):
        assert statuses(client, hidden) == {404}


def test_the_hidden_route_serves_only_that_photos_files_and_only_while_it_is_hidden(
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    hidden_photo, visible_photo = ready_photo(capture), ready_photo(capture)
    hide(hidden_photo, capture)
    owner = signed_in(hidden_photo.owner)
    other_key = visible_photo.renditions.first().storage_key
    assert owner.get(f"/media/hidden/{hidden_photo.pk}/{other_key}").status_code == 404
    visible_key = visible_photo.renditions.first().storage_key
    visible_owner = signed_in(visible_photo.owner)
    assert visible_owner.get(f"/media/hidden/{visible_photo.pk}/{visible_key}").status_code == 404
    assert owner.get(f"/media/hidden/{hidden_photo.pk}/../../etc/passwd").status_code == 404


def test_restoring_brings_the_files_back_under_new_urls(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    photo = ready_photo(capture)
    before = api_urls(api_client(), photo)
    hide(photo, capture)
    hidden = api_urls(api_client(photo.owner), photo)

    restore(photo, capture)

    after = api_urls(api_client(), photo)
    assert len(after) == len(before)
    assert not set(after) & set(before), "new URLs: nothing cached before the hide serves"
    assert statuses(Client(), after) == {200}
    assert statuses(Client(), before) == {404}
    assert statuses(signed_in(photo.owner), hidden) == {404}
    html = Client().get(f"/p/{photo.pk}/").content.decode()
    assert after[0] in html


def test_a_deleted_photos_files_404_hidden_or_not(
    django_capture_on_commit_callbacks, photo_storages
):
    capture = django_capture_on_commit_callbacks
    visible, hidden_one = ready_photo(capture), ready_photo(capture)
    public = api_urls(api_client(), visible)
    hide(hidden_one, capture)
    hidden = api_urls(api_client(hidden_one.owner), hidden_one)
    owner = signed_in(hidden_one.owner)
    assert statuses(owner, hidden) == {200}

    for photo in (visible, hidden_one):
        with capture(execute=True):
            assert api_client(photo.owner).delete(f"/api/v1/photos/{photo.pk}/").status_code == 204

    assert statuses(Client(), public) == {404}
    assert statuses(owner, hidden) == {404}
    assert stored_files(photo_storages["renditions"]) == []
    assert stored_files(photo_storages["originals"]) == [], "private copies are gone too"


def test_renditions_made_while_a_photo_is_hidden_stay_private(
    django_capture_on_commit_callbacks, photo_storages
):
    capture = django_capture_on_commit_callbacks
    photo = ready_photo(capture)  # its AVIF renditions are still queued
    hide(photo, capture)
    with capture(execute=True):
        photo_encode_avif(photo_id=photo.pk)  # the AVIF task runs after the hide
    avif = list(Rendition.objects.filter(photo=photo, format="avif"))
    assert avif
    public_files = stored_files(photo_storages["renditions"])
    assert public_files == [], "nothing of a hidden photo is public"
    owner = signed_in(photo.owner)
    for rendition in avif:
        url = storage.rendition_url(Photo.objects.get(pk=photo.pk), rendition)
        assert owner.get(url).status_code == 200


def test_a_file_another_visible_photo_uses_stays_public(django_capture_on_commit_callbacks):
    """Renditions made before photos had folders of their own are shared by photos of the
    same bytes: hiding one photo must not take the file from the other."""
    capture = django_capture_on_commit_callbacks
    data = samples.jpeg((640, 480))
    hidden_one, other = ready_photo(capture, data=data), ready_photo(capture, data=data)
    for rendition in other.renditions.all():  # the other photo shares the first one's keys
        rendition.storage_key = hidden_one.renditions.get(
            width=rendition.width, format=rendition.format
        ).storage_key
        rendition.save()
    shared = api_urls(api_client(), other)
    hide(hidden_one, capture)
    assert statuses(Client(), shared) == {200}
    assert statuses(
        signed_in(hidden_one.owner), api_urls(api_client(hidden_one.owner), hidden_one)
    ) == {200}


def test_photos_hidden_before_files_followed_visibility_are_withdrawn_by_a_command(
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    photo = ready_photo(capture)
    public = api_urls(api_client(), photo)
    Photo.objects.filter(pk=photo.pk).update(
        hidden_at="2025-01-01T00:00:00Z"
    )  # hidden, files public
    assert statuses(Client(), public) == {200}
    call_command("withdraw_hidden_files")
    assert statuses(Client(), public) == {404}
    assert statuses(signed_in(photo.owner), api_urls(api_client(photo.owner), photo)) == {200}


def test_renditions_replaced_by_a_new_pipeline_version_stop_being_served(
    django_capture_on_commit_callbacks, monkeypatch
):
    from apps.photos import imaging

    capture = django_capture_on_commit_callbacks
    photo = ready_photo(capture)
    before = api_urls(api_client(), photo)
    monkeypatch.setattr(imaging, "JPEG_OPTIONS", {**imaging.JPEG_OPTIONS, "quality": 60})
    monkeypatch.setattr(imaging, "WEBP_OPTIONS", {**imaging.WEBP_OPTIONS, "quality": 60})
    Photo.objects.filter(pk=photo.pk).update(pipeline_version=0)
    with capture(execute=True):
        photo_process(photo_id=photo.pk)  # what reprocess_photos queues
    after = api_urls(api_client(), photo)
    assert not set(after) & set(before), "other bytes, other keys"
    assert statuses(Client(), after) == {200}
    assert statuses(Client(), before) == {404}, "old renditions do not linger at old URLs"
