"""API responses served from the hot cache as rendered bytes, keyed by the versions they show.

A warm hit costs no serializing: the JSON is rendered once, when the entry is built, and sent
as it is afterwards. A signed-out GET goes further (``warm_response``): the rate limit count
and the read of the entry with its versions go to Redis as one pipeline, and a fresh entry is
sent without entering DRF at all. One round trip is the whole request: on this kind of host a
loopback Redis round trip costs more than all of Django's own work for the request.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers
from redis.exceptions import RedisError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from .hotcache import fresh, get_or_compute, version_key
from .redis import redis_client
from .throttling import queue_hit, remember_count, window_for


def viewer_key(request: HttpRequest | Request) -> str:
    """Who is looking: pages that say "you liked this" differ per user."""
    return f"u{request.user.pk}" if request.user.is_authenticated else "anon"


def json_response(content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="application/json")
    patch_vary_headers(response, ["Accept"])  # as DRF's own responses say
    return response


def cached_json(
    key: str, data: Callable[[], Any], *, versions: list[str], timeout: int
) -> HttpResponse:
    """``data()`` rendered to JSON once and served from the cache until a version moves."""
    content = get_or_compute(
        key, lambda: JSONRenderer().render(data()), timeout=timeout, versions=versions
    )
    return json_response(content)


def signed_out_get(request: HttpRequest) -> bool:
    no_token = "HTTP_AUTHORIZATION" not in request.META
    return request.method == "GET" and no_token and not request.user.is_authenticated


# Signed-out readers may see a page up to this old, from the serving process's memory: a hot
# page then costs no Redis round trip at all (which on a small host costs more than Django's
# own work for the request). Signed-in users, who write, never read from here.
_recent: dict[str, tuple[float, bytes]] = {}
RECENT_MAX_ENTRIES = 2000


def _remember(key: str, content: bytes, now: float) -> None:
    seconds = settings.PINSTABLR_ANONYMOUS_MICROCACHE_SECONDS
    if seconds > 0:
        if len(_recent) >= RECENT_MAX_ENTRIES:
            _recent.clear()  # crude, and enough: the entries live a second
        _recent[key] = (now + seconds, content)


def _recalled(key: str, now: float) -> bytes | None:
    found = _recent.get(key)
    return found[1] if found is not None and now < found[0] else None


def warm_response(request: HttpRequest, key: str, versions: list[str]) -> HttpResponse | None:
    """A fresh cached entry for a signed-out GET: from this process's memory if it read it
    in the last moment (not counted against the rate limit: it costs less than counting
    would), else from Redis, counted against the rate limit in the same round trip. None sends
    the request the ordinary way (signed in, no Redis, a miss, a stale entry, over the rate),
    which then knows it was counted already."""
    client = redis_client()
    if client is None or not signed_out_get(request):
        return None
    now = time.time()
    if (recent := _recalled(key, now)) is not None:
        return json_response(recent)
    window = window_for(request, now)
    cache = caches["default"]
    keys = [cache.make_key(name) for name in (key, *map(version_key, versions))]
    try:
        pipeline = client.pipeline(transaction=False)
        if window is not None:
            queue_hit(pipeline, window)
        pipeline.mget(keys)
        *counted, found = pipeline.execute()
    except (RedisError, OSError):
        return None
    if window is not None:
        remember_count(request, window, int(counted[0]))
        if counted[0] > window.limit:
            return None
    decode = cache.client.decode  # type: ignore[attr-defined]  # django-redis' own serializer
    entry, *versions_now = (None if raw is None else decode(raw) for raw in found)
    content = fresh(entry, tuple(versions_now), now)
    if content is None:
        return None
    _remember(key, content, now)
    return json_response(content)


class CachedListMixin:
    """Serve ``list`` from the cache; subclasses name the versions a page depends on (those
    of everyone's copy, and those of the signed-in viewer's own), from their app's
    ``cache_keys``."""

    cache_seconds = 30
    cache_prefix = "list"

    def cache_versions(self, request: HttpRequest | Request) -> list[str]:
        raise NotImplementedError("A cached list names the versions it is built from.")

    def viewer_versions(self, request: HttpRequest | Request) -> list[str]:
        return []

    def page_key(self, request: HttpRequest | Request) -> str:
        # Hashed: any query string makes a short key (junk parameters included).
        query = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:32]
        return f"{self.cache_prefix}:{viewer_key(request)}:{request.get_host()}:{query}"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        warm = warm_response(request, self.page_key(request), self.cache_versions(request))
        return warm or super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:  # bytes, not Response
        page = super().list  # type: ignore[misc]
        return cached_json(
            self.page_key(request),
            lambda: page(request, *args, **kwargs).data,
            versions=[*self.cache_versions(request), *self.viewer_versions(request)],
            timeout=self.cache_seconds,
        )
