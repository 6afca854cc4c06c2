"""View and like counters: incremented in Redis, written to the database in batches.

A popular photo gets thousands of views and likes a minute; an UPDATE of its row for each
would queue them all on one row lock of the primary. Instead each increment is one Redis
HINCRBY, and ``flush`` (every few seconds, from beat) adds the sums to the rows. A flush
that fails puts its sums back, so nothing is lost. Without Redis (the embedded defaults)
increments go straight to the database.

A view counts once per client (signed-in account, or address as our proxies saw it) and photo
in each ``PINSTABLR_VIEW_WINDOW_SECONDS``: a reload, or a script fetching a photo in a loop,
adds nothing more. With Redis the "seen" mark and the increment are one script, one round
trip; while Redis is down views are not counted at all, since nothing could tell a repeat
from a first view and every one would be a write on the primary.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from redis.exceptions import RedisError
from rest_framework.request import Request

from apps.common.hotcache import bump
from apps.common.redis import redis_client
from apps.common.requests import client_address
from pinstablr.db.config import PRIMARY

from . import cache_keys
from .models import Photo

logger = logging.getLogger(__name__)
FIELDS = ("view_count", "like_count")


def _hash(field: str) -> str:
    return f"pinstablr:counters:{field}"


def add(photo_id: int, field: str, amount: int = 1) -> None:
    """Count ``amount`` more of ``field`` for a photo."""
    assert field in FIELDS
    client = redis_client()
    if client is not None:
        try:
            client.hincrby(_hash(field), str(photo_id), amount)
            return
        except RedisError:  # Redis down: count in the database instead
            logger.warning("counter %s for photo %s written directly", field, photo_id)
    Photo.objects.filter(pk=photo_id).update(**{field: F(field) + amount})


# Marks the (photo, client) pair seen for the window, and counts the view only if it was not.
VIEW_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
  return 1
end
return 0
"""


def viewer_of(request: HttpRequest | Request) -> str:
    """Who a view is counted for: the signed-in account, else the client's address."""
    if request.user.is_authenticated:
        return f"u{request.user.pk}"
    return f"a{client_address(request)}"


def add_view(photo_id: int, client: str) -> bool:
    """Count a view of a photo by ``client``, unless it was counted in the current window."""
    seen = f"pinstablr:viewed:{photo_id}:{client}"
    window = settings.PINSTABLR_VIEW_WINDOW_SECONDS
    redis = redis_client()
    if redis is None:
        if not cache.add(seen, 1, window):
            return False
        Photo.objects.filter(pk=photo_id).update(view_count=F("view_count") + 1)
        return True
    try:
        script = redis.register_script(VIEW_ONCE)
        return bool(script(keys=[seen, _hash("view_count")], args=[window, str(photo_id)]))
    except RedisError:
        logger.warning("view of photo %s not counted: Redis is unavailable", photo_id)
        return False


def pending(photo_id: int, field: str) -> int:
    """What has been counted for a photo but not written to its row yet."""
    client = redis_client()
    if client is None:
        return 0
    try:
        return int(client.hget(_hash(field), str(photo_id)) or 0)
    except RedisError:  # unknown while Redis is down: show the stored count
        return 0


def flush() -> int:
    """Write every pending count to the database; the number of photos updated."""
    client = redis_client()
    if client is None:
        return 0
    updated: set[int] = set()
    for field in FIELDS:
        taking = f"{_hash(field)}:flushing:{uuid.uuid4().hex}"
        try:
            if not client.exists(_hash(field)):
                continue
            client.rename(_hash(field), taking)  # atomic: new increments start a new hash
        except RedisError:
            logger.warning("counters not flushed: Redis is unavailable")
            return len(updated)
        sums = {int(k): int(v) for k, v in client.hgetall(taking).items() if int(v)}
        try:
            with transaction.atomic(using=PRIMARY):
                for photo_id, amount in sums.items():
                    Photo.objects.filter(pk=photo_id).update(**{field: F(field) + amount})
        except Exception:
            for photo_id, amount in sums.items():  # give the sums back for the next flush
                client.hincrby(_hash(field), str(photo_id), amount)
            raise
        finally:
            client.delete(taking)
        updated |= set(sums)
    if updated:
        bump(cache_keys.PHOTOS, *(cache_keys.photo(photo_id) for photo_id in updated))
    return len(updated)
