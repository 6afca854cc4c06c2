"""Login brute-force protection: failed attempts counted in the cache, per name and per IP.

The cache is shared by every web server (Redis in production), so the limit holds across the
fleet; the same budget guards the login page and the API's token endpoint is throttled by DRF.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

WINDOW_SECONDS = 15 * 60


def _keys(request: HttpRequest, username: str) -> list[str]:
    address = request.META.get("REMOTE_ADDR", "")
    return [f"login-fail:user:{username.strip().lower()}", f"login-fail:ip:{address}"]


def _limits() -> list[int]:
    per_user = settings.PINSTABLR_LOGIN_FAILURES_PER_USER
    return [per_user, per_user * 4]


def login_blocked(request: HttpRequest, username: str) -> bool:
    counts = cache.get_many(_keys(request, username))
    return any(
        counts.get(key, 0) >= limit
        for key, limit in zip(_keys(request, username), _limits(), strict=True)
    )


def login_failed(request: HttpRequest, username: str) -> None:
    for key in _keys(request, username):
        if cache.add(key, 1, WINDOW_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, WINDOW_SECONDS)


def login_succeeded(request: HttpRequest, username: str) -> None:
    cache.delete(_keys(request, username)[0])
