"""List endpoints whose pages come from the hot cache, keyed by the versions they show."""

from __future__ import annotations

import hashlib
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from .hotcache import get_or_compute, version


def viewer_key(request: Request) -> str:
    """Who is looking: pages that say "you liked this" differ per user."""
    user = request.user
    if not user.is_authenticated:
        return "anon"
    return f"u{user.pk}.{version(f'likes:{user.pk}')}"


class CachedListMixin:
    """Serve ``list`` from the cache; subclasses name the versions a page depends on."""

    cache_seconds = 30
    cache_prefix = "list"

    def cache_versions(self, request: Request) -> list[str]:
        return ["photos"]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        versions = ".".join(str(version(name)) for name in self.cache_versions(request))
        # Hashed: any query string makes a short key (junk parameters included).
        query = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:32]
        key = f"{self.cache_prefix}:{versions}:{viewer_key(request)}:{request.get_host()}:{query}"
        data = get_or_compute(
            key, lambda: super(CachedListMixin, self).list(request, *args, **kwargs).data,  # type: ignore[misc]
            timeout=self.cache_seconds,
        )  # fmt: skip
        return Response(data)
