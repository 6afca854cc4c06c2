"""Hot content in the cache (Redis in production): versioned keys and stampede protection.

Each entry records the version numbers it was built from (``ver:photos``, ``ver:photo:42``...),
read in the same round trip as the entry; a write bumps the versions it affects, so an entry
built before it is never served again. An entry carries a soft expiry before its hard one:
the first reader past the soft expiry takes a short lock and recomputes while everyone else
keeps getting the old value, so a hot key expiring costs one recomputation, not one per
concurrent request.

With the cache down every call degrades to computing the value: slower, never broken.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, NamedTuple, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse

T = TypeVar("T")
VERSION_TTL = 7 * 24 * 3600
LOCK_SECONDS = 10


def version_key(name: str) -> str:
    return f"ver:{name}"


class Entry(NamedTuple):
    value: Any
    fresh_until: float
    built_from: tuple[Any, ...]  # the versions it was computed from


def current(entry: Any, versions_now: tuple[Any, ...]) -> Entry | None:
    """``entry`` if it was built from the versions as they are now (anything else, an entry
    of an older format included, counts as missing)."""
    if isinstance(entry, Entry) and entry.built_from == versions_now:
        return entry
    return None


def fresh(entry: Any, versions_now: tuple[Any, ...], now: float) -> Any | None:
    """The value of an entry that may be served as it is: current and before its soft expiry."""
    found = current(entry, versions_now)
    return found.value if found is not None and now < found.fresh_until else None


def version(name: str) -> int:
    """The current version of ``name`` (1 if never bumped, 0 if the cache is down)."""
    key = version_key(name)
    value = cache.get(key)
    if value is None:
        cache.add(key, 1, VERSION_TTL)
        value = cache.get(key)
    return int(value or 0)


def bump(*names: str, using: str = "default") -> None:
    """Invalidate everything keyed on these versions, once the transaction commits."""

    def increment() -> None:
        for name in names:
            key = version_key(name)
            try:
                cache.incr(key)
            except ValueError:  # not there yet (or evicted): any new number will do
                cache.set(key, int(time.time()), VERSION_TTL)

    transaction.on_commit(increment, using=using)


def get_or_compute(
    key: str, compute: Callable[[], T], *, timeout: int, versions: Sequence[str] = ()
) -> T:
    """``compute()`` cached under ``key`` for ``timeout`` seconds, recomputed by one caller.

    The ``versions`` the value depends on are read in the same round trip as the entry, which
    records the versions it was built from: an entry from before a bump is never served.
    """
    version_keys = [version_key(name) for name in versions]
    found = cache.get_many([key, *version_keys])
    versions_now = tuple(found.get(name) for name in version_keys)
    entry = current(found.get(key), versions_now)
    now = time.time()
    locked = False
    if entry is not None:
        if now < entry.fresh_until:
            return entry.value
        locked = cache.add(f"lock:{key}", 1, LOCK_SECONDS)
        if not locked:
            return entry.value  # someone else is already recomputing it
    value = compute()
    # The hard expiry leaves time to recompute before the entry disappears.
    cache.set(key, Entry(value, now + timeout, versions_now), timeout * 2)
    if locked:
        cache.delete(f"lock:{key}")
    return value


def cached_anonymous_page(
    versions: Callable[..., list[str]], *, timeout: int = 60
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Serve a page to signed-out visitors from the cache, keyed by the versions it shows.

    Signed-in visitors see personal things (their likes, forms with CSRF tokens) and always
    get a fresh render. Pages cached this way must not call ``csrf_token`` for anonymous
    visitors.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.is_authenticated or request.method != "GET":
                return view(request, *args, **kwargs)
            path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]

            def render() -> tuple[int, bytes, str]:
                response = view(request, *args, **kwargs)
                content = (
                    response.render().content if hasattr(response, "render") else response.content
                )
                return response.status_code, content, response["Content-Type"]

            status, content, content_type = get_or_compute(
                f"page:{path}", render, timeout=timeout, versions=versions(*args, **kwargs)
            )
            return HttpResponse(content, status=status, content_type=content_type)

        return wrapper

    return decorator
