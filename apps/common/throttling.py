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
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.http import HttpRequest
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .redis import redis_client
from .requests import client_address

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    """The counter a request is counted on: its client's, for the current window."""

    key: str
    limit: int
    seconds: int

    def retry_after(self, now: float) -> float:
        return self.seconds - now % self.seconds


def window_for(request: HttpRequest | Request, now: float) -> Window | None:
    """``user`` rate for signed-in clients (by account), ``anon`` for others (by address);
    None when the rate is not limited."""
    signed_in = request.user.is_authenticated
    scope = "user" if signed_in else "anon"
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
    if rate is None:
        return None
    limit, seconds = ClientRateThrottle().parse_rate(str(rate))  # DRF's rate parsing
    assert limit is not None  # a rate names both
    assert seconds is not None
    client = request.user.pk if signed_in else client_address(request)
    return Window(f"throttle:{scope}:{client}:{int(now // seconds)}", limit, seconds)


def queue_hit(pipeline: Any, window: Window) -> None:
    """Queue the increment of ``window``'s counter (which expires with it) on a pipeline."""
    key = caches["default"].make_key(window.key)
    pipeline.incr(key)
    pipeline.expire(key, window.seconds)


def count_hit(window: Window) -> int:
    """Add one to ``window``'s counter; 0 if the cache is down."""
    cache = caches["default"]
    client = redis_client()
    if client is not None:
        try:
            pipeline = client.pipeline(transaction=False)
            queue_hit(pipeline, window)
            return int(pipeline.execute()[0])
        except (RedisError, OSError) as error:
            logger.warning("rate limit not counted, cache unavailable: %s", error)
            return 0
    cache.add(window.key, 0, window.seconds)
    try:
        return cache.incr(window.key)
    except ValueError:  # evicted in between: count this window from here
        return 0


def remember_count(request: HttpRequest, window: Window, count: int) -> None:
    """A request already counted (by the warm-cache path) is not counted twice."""
    request._pinstablr_rate_count = (window.key, count)  # type: ignore[attr-defined]


class ClientRateThrottle(SimpleRateThrottle):
    """The one rate limit of the API (see the module's docstring)."""

    def __init__(self) -> None:  # the rate depends on the request, not on the class
        self.retry_after: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        now = time.time()
        window = window_for(request, now)
        if window is None:
            return True
        counted = getattr(request._request, "_pinstablr_rate_count", None)
        count = counted[1] if counted and counted[0] == window.key else count_hit(window)
        if count <= window.limit:
            return True
        self.retry_after = window.retry_after(now)
        return False

    def wait(self) -> float | None:
        return self.retry_after
