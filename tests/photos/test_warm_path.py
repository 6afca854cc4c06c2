"""Signed-out GETs of cached API pages: one Redis round trip, no DRF, nothing stale."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient
from rest_framework.views import APIView

from apps.photos.services.engagement import photo_set_caption
from tests.factories import PhotoFactory, UserFactory
from tests.services import redis_cache

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture
def redis(settings, redis_url):
    settings.CACHES = redis_cache(redis_url)
    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


@pytest.fixture
def drf_calls(monkeypatch) -> list[str]:
    """The requests that went through DRF's dispatch (auth, throttles, negotiation)."""
    calls: list[str] = []
    original = APIView.initial

    def initial(self, request, *args, **kwargs):
        calls.append(request.path)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "initial", initial)
    return calls


def rate_count(cache, address: str) -> int:
    client = cache.client.get_client()
    keys = client.keys(f"*throttle:anon:{address}:*")
    return sum(int(client.get(key)) for key in keys)


@pytest.mark.parametrize("path", ["/api/v1/photos/", "/api/v1/explore/", "photo"])
def test_a_warm_signed_out_get_skips_drf_and_is_counted_once(
    redis, drf_calls, path, django_assert_num_queries
):
    photo = PhotoFactory()
    path = f"/api/v1/photos/{photo.pk}/" if path == "photo" else path
    client = APIClient(REMOTE_ADDR="198.51.100.4")
    cold = client.get(path)
    assert drf_calls == [path]  # a miss takes the ordinary way and fills the cache
    with django_assert_num_queries(0):
        warm = client.get(path)
    assert drf_calls == [path]
    assert warm.status_code == 200
    assert warm.content == cold.content
    assert warm["Content-Type"] == "application/json"
    assert "Accept" in warm["Vary"]
    assert rate_count(redis, "198.51.100.4") == 2  # the miss was not counted twice


def test_a_write_is_never_hidden_by_the_warm_path(
    redis, drf_calls, django_capture_on_commit_callbacks
):
    photo = PhotoFactory(caption="before")
    client = APIClient()
    for path in (f"/api/v1/photos/{photo.pk}/", "/api/v1/photos/"):
        client.get(path)
    with django_capture_on_commit_callbacks(execute=True):
        photo_set_caption(photo=photo, caption="after")
    assert client.get(f"/api/v1/photos/{photo.pk}/").json()["caption"] == "after"
    assert client.get("/api/v1/photos/").json()["results"][0]["caption"] == "after"
    assert len(drf_calls) == 4  # the bumped versions sent both the ordinary way


def test_signed_in_clients_and_tokens_take_the_ordinary_way(redis, drf_calls):
    PhotoFactory()
    user = UserFactory()
    session = APIClient()
    session.force_login(user)
    for _ in range(2):
        session.get("/api/v1/photos/")
        APIClient().get("/api/v1/photos/", HTTP_AUTHORIZATION="Token not-a-real-one")
    assert len(drf_calls) == 4


def test_over_the_rate_a_warm_page_is_refused_as_usual(redis, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "2/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    PhotoFactory()
    client = APIClient(REMOTE_ADDR="198.51.100.9")
    statuses = [client.get("/api/v1/photos/").status_code for _ in range(3)]
    refused = client.get("/api/v1/photos/")
    assert statuses == [200, 200, 429]
    assert refused.json()["error"]["code"] == "throttled"
    assert "Retry-After" in refused


@pytest.fixture
def microcache(settings):
    from apps.common import cached_views

    settings.PINSTABLR_ANONYMOUS_MICROCACHE_SECONDS = 1.0
    cached_views._recent.clear()
    yield cached_views
    cached_views._recent.clear()


def test_signed_out_readers_get_a_hot_page_from_memory_for_at_most_a_second(
    redis, drf_calls, microcache, monkeypatch
):
    PhotoFactory()
    client = APIClient(REMOTE_ADDR="198.51.100.5")
    first = client.get("/api/v1/photos/")  # the ordinary way: fills Redis
    client.get("/api/v1/photos/")  # from Redis: remembered by this process
    redis.clear()  # whatever comes next without DRF came from memory
    assert client.get("/api/v1/photos/").content == first.content
    assert drf_calls == ["/api/v1/photos/"]
    later = microcache.time.time() + 1.01
    monkeypatch.setattr(microcache.time, "time", lambda: later)
    assert client.get("/api/v1/photos/").status_code == 200
    assert drf_calls == ["/api/v1/photos/"] * 2  # a second on: Redis, then the ordinary way


def test_signed_in_users_never_read_the_microcache(redis, drf_calls, microcache):
    PhotoFactory()
    for _ in range(2):
        APIClient().get("/api/v1/photos/")
    user = UserFactory()
    session = APIClient()
    session.force_login(user)
    session.get("/api/v1/photos/")
    assert len(drf_calls) == 2
