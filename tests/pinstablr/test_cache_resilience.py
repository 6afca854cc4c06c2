"""Redis is a cache: with it down the site is slower, never broken."""

import time

import pytest

pytestmark = [pytest.mark.django_db(transaction=True, databases="__all__"), pytest.mark.redis]


def redis_cache(settings, url: str) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    # Django's setting_changed handler rebuilds the cache connections from the new value.


def test_readyz_uses_the_real_redis(client, settings, redis_url):
    redis_cache(settings, redis_url)
    body = client.get("/readyz").json()
    assert body["checks"]["cache"]["ok"] is True
    assert body["status"] == "ok"


def test_readyz_is_degraded_quickly_when_redis_is_unreachable(client, settings):
    redis_cache(settings, "redis://127.0.0.1:1/0")
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 3
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"]["ok"] is False
