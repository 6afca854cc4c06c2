"""View and like counters: incremented in Redis, written to the database in batches.

A popular photo gets thousands of views and likes a minute; an UPDATE of its row for each
would queue them all on one row lock of the primary. Instead each increment is one Redis
HINCRBY, and ``flush`` (every few seconds, from beat) adds the sums to the rows. A flush
that fails puts its sums back, so nothing is lost. Without Redis (the embedded defaults)
increments go straight to the database.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.db.models import F
from redis.exceptions import RedisError

from apps.common.hotcache import bump
from apps.common.redis import redis_client
from pinstablr.db.config import PRIMARY

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
        bump("photos", *(f"photo:{photo_id}" for photo_id in updated))
    return len(updated)
