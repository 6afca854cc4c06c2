"""Views count only for photos everyone may see, once per client (account or address) and
photo in each window: a 404 counts nothing, a reload or a loop of requests counts once."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.photos import counters
from apps.photos.models import Photo
from tests.factories import PhotoFactory, UserFactory, api_client, team_member
from tests.services import redis_cache

pytestmark = pytest.mark.django_db


def views(photo: Photo) -> int:
    """Counted views, written or still waiting in Redis to be."""
    return Photo.objects.get(pk=photo.pk).view_count + counters.pending(photo.pk, "view_count")


def reader(address: str) -> tuple[APIClient, Client]:
    """A signed-out reader at ``address``: the API and the pages."""
    return APIClient(REMOTE_ADDR=address), Client(REMOTE_ADDR=address)


def read(photo: Photo, api: APIClient, page: Client) -> tuple[int, int]:
    return (
        api.get(f"/api/v1/photos/{photo.pk}/").status_code,
        page.get(f"/p/{photo.pk}/").status_code,
    )


@pytest.mark.parametrize("state", ["hidden", "pending", "processing", "failed"])
def test_a_photo_nobody_else_may_see_counts_no_view_even_for_its_owner(state):
    fields = {"hidden": {"hidden_at": timezone.now(), "hidden_reason": "Spam"}}
    photo = PhotoFactory(**fields.get(state, {"status": state}))
    assert read(photo, *reader("198.51.100.1")) == (404, 404)
    stranger = UserFactory()
    assert api_client(stranger).get(f"/api/v1/photos/{photo.pk}/").status_code == 404
    owner_page = Client()
    owner_page.force_login(photo.owner)
    assert read(photo, api_client(photo.owner), owner_page) == (200, 200)
    if state == "hidden":
        assert api_client(team_member("ops")).get(f"/api/v1/photos/{photo.pk}/").status_code == 200
    assert views(photo) == 0


def test_a_view_counts_once_per_address_in_the_window_however_often_it_reloads():
    photo = PhotoFactory()
    first, second = reader("198.51.100.1"), reader("198.51.100.2")
    for _ in range(3):
        assert read(photo, *first) == (200, 200)
    assert views(photo) == 1, "the API and the page, three times: one view"
    read(photo, *second)
    assert views(photo) == 2


def test_a_signed_in_reader_counts_once_wherever_they_read_from():
    photo, fan = PhotoFactory(), UserFactory()
    page = Client(REMOTE_ADDR="198.51.100.7")
    page.force_login(fan)
    for address in ("198.51.100.7", "203.0.113.8"):  # a phone, then a laptop
        api = api_client(fan)
        api.defaults["REMOTE_ADDR"] = address
        assert read(photo, api, page) == (200, 200)
    assert views(photo) == 1


def test_the_address_is_the_one_our_proxies_saw_not_one_the_client_names(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    photo = PhotoFactory()
    for forged in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        # nginx appends the address it saw; what the client wrote before it is not believed
        APIClient(HTTP_X_FORWARDED_FOR=f"{forged}, 198.51.100.4").get(f"/api/v1/photos/{photo.pk}/")
    assert views(photo) == 1


def test_a_reader_counts_again_once_the_window_is_over(settings):
    settings.PINSTABLR_VIEW_WINDOW_SECONDS = 1
    photo = PhotoFactory()
    api, page = reader("198.51.100.1")
    read(photo, api, page)
    read(photo, api, page)
    assert views(photo) == 1
    time.sleep(1.1)
    read(photo, api, page)
    assert views(photo) == 2


@pytest.mark.redis
def test_with_redis_warm_reads_count_once_per_reader_and_hidden_photos_nothing(
    settings, own_redis, django_capture_on_commit_callbacks
):
    settings.CACHES = redis_cache(own_redis[0])
    photo, hidden = PhotoFactory(), PhotoFactory(hidden_at=timezone.now(), hidden_reason="Spam")
    first, second = reader("198.51.100.1"), reader("198.51.100.2")
    for _ in range(3):  # a miss, then warm reads that skip DRF and the database
        assert read(photo, *first) == (200, 200)
        assert read(hidden, *first) == (404, 404)
    read(photo, *second)
    assert counters.pending(photo.pk, "view_count") == 2
    assert counters.pending(hidden.pk, "view_count") == 0
    assert counters.flush() == 1
    assert Photo.objects.get(pk=photo.pk).view_count == 2


@pytest.mark.redis
def test_with_redis_down_views_are_not_counted_and_pages_still_answer(settings, own_redis):
    url, state = own_redis
    settings.CACHES = redis_cache(url)
    photo = PhotoFactory()
    state["process"].kill()
    state["process"].wait()
    assert read(photo, *reader("198.51.100.1")) == (200, 200)
    assert Photo.objects.get(pk=photo.pk).view_count == 0, "no write on the primary per view"
