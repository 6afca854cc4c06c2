"""The API's rate limit: one counter per client and minute, in Redis in production."""

from __future__ import annotations

import time

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.services import redis_cache

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_a_minute(settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "3/minute"}
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "user": "4/minute"},
    }
    if time.time() % 60 > 55:  # the counters are per minute: start well inside one
        time.sleep(60 - time.time() % 60 + 0.1)


def statuses(client: APIClient, count: int, address: str = "203.0.113.7") -> list[int]:
    return [client.get("/api/v1/photos/", REMOTE_ADDR=address).status_code for _ in range(count)]


def test_each_client_gets_its_own_rate_and_is_told_when_to_come_back(three_a_minute):
    assert statuses(APIClient(), 4) == [200, 200, 200, 429]
    refused = APIClient().get("/api/v1/photos/", REMOTE_ADDR="203.0.113.7")
    assert refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert statuses(APIClient(), 1, address="203.0.113.8") == [200]  # another address
    signed_in = APIClient()
    signed_in.force_authenticate(UserFactory())
    # The same address signed in counts against the account's own (higher) rate.
    assert statuses(signed_in, 5) == [200, 200, 200, 200, 429]


@pytest.mark.redis
def test_the_counter_is_one_expiring_redis_key_per_client_and_window(
    settings, redis_url, three_a_minute
):
    settings.CACHES = redis_cache(redis_url)
    caches["default"].clear()
    assert statuses(APIClient(), 4) == [200, 200, 200, 429]
    client = caches["default"].client.get_client()
    window = int(time.time() // 60)
    keys = client.keys("*throttle:anon:203.0.113.7:*")
    assert len(keys) == 1
    assert keys[0].decode().endswith(f":{window}") or keys[0].decode().endswith(f":{window - 1}")
    assert int(client.get(keys[0])) == 4
    assert 0 < client.ttl(keys[0]) <= 60
    caches["default"].clear()


@pytest.mark.redis
def test_with_redis_down_requests_are_let_through_quickly(settings, three_a_minute):
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0")
    started = time.monotonic()
    assert statuses(APIClient(), 5) == [200] * 5
    assert time.monotonic() - started < 10
