"""Redis is a cache: with it down the site is slower, never broken."""

import time

import pytest

from tests.services import redis_cache

pytestmark = [pytest.mark.django_db(transaction=True, databases="__all__"), pytest.mark.redis]

# /readyz shows its checks only to a caller with the metrics token (or the ops team).
TOKEN = "cache-resilience-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def _metrics_token(settings) -> None:
    settings.PINSTABLR_METRICS_TOKEN = TOKEN


def test_readyz_uses_the_real_redis(client, settings, redis_url):
    settings.CACHES = redis_cache(redis_url)
    body = client.get("/readyz", headers=AUTH).json()
    assert body["checks"]["cache"]["ok"] is True
    assert body["status"] == "ok"


def test_readyz_is_degraded_quickly_when_redis_is_unreachable(client, settings):
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0")
    started = time.monotonic()
    response = client.get("/readyz", headers=AUTH)
    assert time.monotonic() - started < 3
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"]["ok"] is False


def test_counters_and_rate_limits_find_redis_behind_the_metrics_backend(settings, redis_url):
    """Production wraps django-redis in django-prometheus' counting twin: still Redis."""
    from apps.common.redis import redis_client
    from pinstablr.observability.instrument import with_cache_metrics

    settings.CACHES = with_cache_metrics(redis_cache(redis_url))
    assert "django_prometheus" in settings.CACHES["default"]["BACKEND"]
    client = redis_client()
    assert client is not None
    assert client.ping() is True
