"""The rate limit every API request passes: one counter per client and window.

DRF's ``AnonRateThrottle`` and ``UserRateThrottle`` each keep a pickled list of request
times per client, read and rewritten by every request: four cache round trips for the pair,
and entries that grow with the rate. A fixed-window counter is one ``INCR``. It lets a
client make up to twice the rate across a window boundary, which is fine for keeping abuse
out, and the rate stays a setting (``anon`` and ``user`` in ``DEFAULT_THROTTLE_RATES``).

With the cache down, requests are let through (and the error logged): the rate limit is a
protection, not a reason to fail.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import caches
from django_redis.cache import RedisCache
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


def count_hit(key: str, window_seconds: int) -> int:
    """Add one to ``key``'s counter, which expires with its window; 0 if the cache is down."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        try:
            client = cache.client.get_client(write=True)
            full_key = cache.client.make_key(key)
            pipeline = client.pipeline(transaction=False)
            pipeline.incr(full_key)
            pipeline.expire(full_key, window_seconds)
            return int(pipeline.execute()[0])
        except (RedisError, OSError) as error:
            logger.warning("rate limit not counted, cache unavailable: %s", error)
            return 0
    cache.add(key, 0, window_seconds)
    try:
        return cache.incr(key)
    except ValueError:  # evicted in between: count this window from here
        return 0


class ClientRateThrottle(SimpleRateThrottle):
    """``user`` rate for signed-in clients (by account), ``anon`` for others (by address)."""

    def __init__(self) -> None:  # the rate depends on the request, not on the class
        self.retry_after: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        signed_in = request.user.is_authenticated
        scope = "user" if signed_in else "anon"
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
        if rate is None:
            return True
        limit, duration = self.parse_rate(str(rate))
        assert limit is not None and duration is not None  # a rate names both
        client = request.user.pk if signed_in else self.get_ident(request)
        now = time.time()
        window = int(now // duration)
        if count_hit(f"throttle:{scope}:{client}:{window}", duration) <= limit:
            return True
        self.retry_after = duration - now % duration
        return False

    def wait(self) -> float | None:
        return self.retry_after
