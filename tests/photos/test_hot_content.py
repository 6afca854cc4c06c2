"""Hot content: warm pages cost no query, writes show at once, Redis down costs nothing."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.common import hotcache
from apps.photos import counters
from apps.photos.models import Photo
from apps.photos.services.engagement import photo_set_caption, photo_sync_tags
from tests.factories import PhotoFactory, UserFactory
from tests.services import redis_cache

pytestmark = pytest.mark.django_db


@pytest.mark.redis
def test_a_warm_photo_page_and_warm_lists_cost_no_query(
    settings, own_redis, django_assert_num_queries
):
    settings.CACHES = redis_cache(own_redis[0])
    photo = PhotoFactory()
    client = APIClient()
    for path in (f"/api/v1/photos/{photo.id}/", "/api/v1/explore/", "/api/v1/photos/"):
        assert client.get(path).status_code == 200
        with django_assert_num_queries(0):
            assert client.get(path).status_code == 200


def test_a_write_shows_on_the_next_read(django_capture_on_commit_callbacks):
    photo = PhotoFactory(caption="before")
    client = APIClient()
    assert client.get(f"/api/v1/photos/{photo.id}/").json()["caption"] == "before"
    assert client.get("/api/v1/photos/").json()["results"][0]["caption"] == "before"
    with django_capture_on_commit_callbacks(execute=True):
        photo_set_caption(photo=photo, caption="after")
    assert client.get(f"/api/v1/photos/{photo.id}/").json()["caption"] == "after"
    assert client.get("/api/v1/photos/").json()["results"][0]["caption"] == "after"


def test_likes_show_for_the_liker_at_once(django_capture_on_commit_callbacks):
    photo, fan = PhotoFactory(), UserFactory()
    client = APIClient()
    client.force_authenticate(fan)
    assert client.get(f"/api/v1/photos/{photo.id}/").json()["liked"] is False
    with django_capture_on_commit_callbacks(execute=True):
        client.put(f"/api/v1/photos/{photo.id}/like/")
    assert client.get(f"/api/v1/photos/{photo.id}/").json()["liked"] is True
    assert client.get("/api/v1/photos/").json()["results"][0]["liked"] is True


def test_a_hot_key_expiring_is_recomputed_by_one_caller_while_others_get_the_old_value(
    monkeypatch,
):
    calls: list[int] = []
    assert hotcache.get_or_compute("hot", lambda: calls.append(1) or "v1", timeout=10) == "v1"
    later = time.time() + 11  # past the soft expiry, before the hard one
    monkeypatch.setattr(hotcache.time, "time", lambda: later)
    cache.add("lock:hot", 1, 10)  # another request is already recomputing
    assert hotcache.get_or_compute("hot", lambda: calls.append(1) or "v2", timeout=10) == "v1"
    assert calls == [1]
    cache.delete("lock:hot")
    assert hotcache.get_or_compute("hot", lambda: calls.append(1) or "v2", timeout=10) == "v2"
    assert calls == [1, 1]


def test_without_redis_counters_go_straight_to_the_database():
    photo = PhotoFactory()
    APIClient().get(f"/api/v1/photos/{photo.id}/")
    assert Photo.objects.get(pk=photo.pk).view_count == 1


@pytest.mark.redis
def test_counters_gather_in_redis_and_are_written_in_batches(settings, own_redis):
    url, _ = own_redis
    settings.CACHES = redis_cache(url)
    photo, fan = PhotoFactory(), UserFactory()
    for reader in range(5):  # five readers: a view counts once per reader
        APIClient(REMOTE_ADDR=f"198.51.100.{reader + 1}").get(f"/api/v1/photos/{photo.id}/")
    client = APIClient()
    client.force_authenticate(fan)
    assert client.put(f"/api/v1/photos/{photo.id}/like/").json()["like_count"] == 1
    stored = Photo.objects.get(pk=photo.pk)
    assert (stored.view_count, stored.like_count) == (0, 0), "not written yet"
    assert counters.flush() == 1
    stored = Photo.objects.get(pk=photo.pk)
    assert (stored.view_count, stored.like_count) == (5, 1)
    assert counters.flush() == 0, "nothing is counted twice"


READINESS_TOKEN = "hot-content-test-token"


def readiness_checks(client: APIClient) -> dict:
    """Every check of /readyz, read with the metrics token (anonymous callers get the status)."""
    authorization = f"Bearer {READINESS_TOKEN}"
    return client.get("/readyz", HTTP_AUTHORIZATION=authorization).json()["checks"]


@pytest.mark.redis
def test_redis_stopped_mid_run_costs_no_error_and_fills_again_when_back(settings, own_redis):
    url, state = own_redis
    settings.CACHES = redis_cache(url)
    settings.PINSTABLR_METRICS_TOKEN = READINESS_TOKEN
    photos = PhotoFactory.create_batch(3)
    fan = UserFactory()
    client = APIClient()
    client.force_authenticate(fan)

    def browse() -> list[int]:
        statuses = [
            client.get("/api/v1/photos/").status_code,
            client.get("/api/v1/explore/").status_code,
        ]
        for photo in photos:
            statuses.append(client.get(f"/api/v1/photos/{photo.id}/").status_code)
            statuses.append(client.put(f"/api/v1/photos/{photo.id}/like/").status_code)
            statuses.append(client.delete(f"/api/v1/photos/{photo.id}/like/").status_code)
        return statuses

    assert set(browse()) == {200}
    state["process"].kill()
    state["process"].wait()
    assert set(browse()) == {200}, "Redis down: slower, not broken"
    assert readiness_checks(client)["cache"]["ok"] is False

    state["process"] = state["start"]()
    cache.clear()
    browse()
    import redis

    assert redis.Redis.from_url(url).dbsize() > 0, "the cache fills again"
    assert readiness_checks(client)["cache"]["ok"] is True


@pytest.mark.redis
def test_warm_pages_for_signed_out_visitors_cost_no_query_and_show_writes(
    settings, own_redis, client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    settings.CACHES = redis_cache(own_redis[0])
    photo = PhotoFactory(caption="first #dawn")
    photo_sync_tags(photo=photo)
    paths = ["/", "/explore/", f"/p/{photo.id}/", "/t/dawn/"]
    for path in paths:
        assert client.get(path).status_code == 200
        with django_assert_num_queries(0):
            assert client.get(path).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        photo_set_caption(photo=photo, caption="second #dawn")
    for path in paths:
        assert "second" in client.get(path).content.decode(), path
