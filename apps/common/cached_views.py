"""API responses served from the hot cache as rendered bytes, keyed by the versions they show.

A warm hit costs one cache round trip and no serializing: the JSON is rendered once, when
the entry is built, and sent as it is afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from .hotcache import get_or_compute


def viewer_key(request: Request) -> str:
    """Who is looking: pages that say "you liked this" differ per user."""
    return f"u{request.user.pk}" if request.user.is_authenticated else "anon"


def viewer_versions(request: Request) -> list[str]:
    """What changes a signed-in viewer's copy of a page: their likes."""
    return [f"likes:{request.user.pk}"] if request.user.is_authenticated else []


def cached_json(
    key: str, data: Callable[[], Any], *, versions: list[str], timeout: int
) -> HttpResponse:
    """``data()`` rendered to JSON once and served from the cache until a version moves."""
    content = get_or_compute(
        key, lambda: JSONRenderer().render(data()), timeout=timeout, versions=versions
    )
    return HttpResponse(content, content_type="application/json")


class CachedListMixin:
    """Serve ``list`` from the cache; subclasses name the versions a page depends on."""

    cache_seconds = 30
    cache_prefix = "list"

    def cache_versions(self, request: Request) -> list[str]:
        return ["photos"]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:  # bytes, not Response
        # Hashed: any query string makes a short key (junk parameters included).
        query = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:32]
        key = f"{self.cache_prefix}:{viewer_key(request)}:{request.get_host()}:{query}"
        page = super().list  # type: ignore[misc]
        return cached_json(
            key,
            lambda: page(request, *args, **kwargs).data,
            versions=[*self.cache_versions(request), *viewer_versions(request)],
            timeout=self.cache_seconds,
        )
