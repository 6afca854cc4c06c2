"""The Redis behind the default cache, for the few things a cache API cannot do atomically
(counters, queues): ``None`` when the cache is not Redis (the embedded defaults, tests)."""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django_redis.cache import RedisCache


def redis_client() -> Any | None:
    # An instance check, not the BACKEND setting: the metrics twin is a subclass.
    cache = caches["default"]
    return cache.client.get_client(write=True) if isinstance(cache, RedisCache) else None
