"""Exposures and conversion events: collected on the hot path, written in batches.

Every page view of a running experiment would otherwise cost an INSERT in the request.
Instead a request's exposures are pushed to a Redis list in one call when its response is
sent, and the ``flush-experiment-events`` beat task moves them to the ``experiments``
database in bulk inserts. A unit's later exposures are duplicates: each process remembers
the units it has already sent, and the unique key drops the rest at insert time.

Without Redis (the embedded defaults) records wait in the process and are written in one
bulk insert by the request that finds the buffer full or old enough; with Redis failing,
the same. A stop or crash of the process loses at most that in-process buffer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import DatabaseError
from redis.exceptions import RedisError

from apps.common.redis import redis_client
from pinstablr.db.config import EXPERIMENTS

logger = logging.getLogger(__name__)

EXPOSURES_KEY = "pinstablr:experiments:exposures"
EVENTS_KEY = "pinstablr:experiments:events"
# The in-process buffer is written when it holds this many records or is this old.
LOCAL_FLUSH_SIZE = 500
LOCAL_FLUSH_SECONDS = 10.0
# How many (experiment, unit) pairs each process remembers as already exposed.
SEEN_LIMIT = 200_000
BATCH = 1000


@dataclass(frozen=True)
class ExposureRecord:
    experiment_id: int
    variant_id: int
    unit_id: str
    user_id: int | None
    at: float  # epoch seconds


@dataclass(frozen=True)
class EventRecord:
    metric: str
    unit_id: str
    user_id: int | None
    value: float
    at: float


class _Seen:
    """A bounded set of recently exposed (experiment, unit) pairs, oldest forgotten first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[int, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, item: tuple[int, str]) -> bool:
        """True if ``item`` is new."""
        with self._lock:
            if item in self._items:
                self._items.move_to_end(item)
                return False
            self._items[item] = None
            if len(self._items) > self.limit:
                self._items.popitem(last=False)
            return True

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_seen = _Seen(SEEN_LIMIT)
_local: dict[str, list[Any]] = {"exposures": [], "events": []}
_local_since = time.monotonic()
_local_lock = threading.Lock()


def record(exposures: list[ExposureRecord], events: list[EventRecord]) -> None:
    """Queue a request's exposures and events for writing; never raises, never waits on SQL
    unless the in-process buffer is due."""
    exposures = [e for e in exposures if _seen.add((e.experiment_id, e.unit_id))]
    if not exposures and not events:
        return
    client = redis_client()
    if client is not None:
        try:
            pipe = client.pipeline(transaction=False)
            if exposures:
                pipe.rpush(EXPOSURES_KEY, *(json.dumps(asdict(e)) for e in exposures))
            if events:
                pipe.rpush(EVENTS_KEY, *(json.dumps(asdict(e)) for e in events))
            pipe.execute()
            return
        except RedisError:
            logger.warning("experiment records kept in the process: Redis is unavailable")
    global _local_since
    with _local_lock:
        _local["exposures"].extend(exposures)
        _local["events"].extend(events)
        size = len(_local["exposures"]) + len(_local["events"])
        due = size >= LOCAL_FLUSH_SIZE or time.monotonic() - _local_since >= LOCAL_FLUSH_SECONDS
    if due:
        flush_local()


def flush_local() -> int:
    """Write this process's buffer; the number of records written."""
    global _local_since
    with _local_lock:
        exposures, events = _local["exposures"], _local["events"]
        _local["exposures"], _local["events"] = [], []
        _local_since = time.monotonic()
    if not exposures and not events:
        return 0
    try:
        write_exposures(exposures)
        write_events(events)
    except Exception:  # a failed write must never fail the response that triggered it
        logger.exception("experiment records not written; kept for the next flush")
        with _local_lock:
            _local["exposures"][:0] = exposures
            _local["events"][:0] = events
        return 0
    return len(exposures) + len(events)


def _take(client: Any, key: str) -> list[bytes]:
    pipe = client.pipeline(transaction=True)
    pipe.lrange(key, 0, BATCH - 1)
    pipe.ltrim(key, BATCH, -1)
    items, _ = pipe.execute()
    return list(items)


def flush() -> int:
    """Move everything queued in Redis (and this process) to the database; records written."""
    written = flush_local()
    client = redis_client()
    if client is None:
        return written
    written += _drain(
        client,
        EXPOSURES_KEY,
        lambda raw: write_exposures([ExposureRecord(**json.loads(item)) for item in raw]),
    )
    written += _drain(
        client,
        EVENTS_KEY,
        lambda raw: write_events([EventRecord(**json.loads(item)) for item in raw]),
    )
    return written


def _drain(client: Any, key: str, write: Callable[[list[bytes]], None]) -> int:
    """Write the list at ``key`` in batches; a failed batch goes back, nothing is lost."""
    written = 0
    while True:
        try:
            raw = _take(client, key)
        except RedisError:
            logger.warning("experiment records not flushed: Redis is unavailable")
            return written
        if not raw:
            return written
        try:
            write(raw)
        except DatabaseError:
            client.rpush(key, *raw)
            logger.exception("experiment records not written; put back for the next flush")
            return written
        written += len(raw)


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def write_exposures(records: list[ExposureRecord]) -> None:
    """Insert first exposures in bulk; a unit already exposed keeps its first row."""
    from .models import Experiment, Exposure

    if not records:
        return
    # The earliest record of a unit wins, within the batch and (by the unique key) before it.
    first: dict[tuple[int, str], ExposureRecord] = {}
    for record_ in sorted(records, key=lambda r: r.at):
        first.setdefault((record_.experiment_id, record_.unit_id), record_)
    known = set(
        Experiment.objects.using(EXPERIMENTS)
        .filter(pk__in={r.experiment_id for r in first.values()})
        .values_list("pk", flat=True)
    )
    Exposure.objects.using(EXPERIMENTS).bulk_create(
        [
            Exposure(
                experiment_id=r.experiment_id,
                variant_id=r.variant_id,
                unit_id=r.unit_id,
                user_id=r.user_id,
                exposed_at=_when(r.at),
            )
            for r in first.values()
            if r.experiment_id in known  # an experiment deleted meanwhile
        ],
        ignore_conflicts=True,
        batch_size=BATCH,
    )


def write_events(records: list[EventRecord]) -> None:
    from .models import Event

    if not records:
        return
    Event.objects.using(EXPERIMENTS).bulk_create(
        [
            Event(
                metric=r.metric,
                unit_id=r.unit_id,
                user_id=r.user_id,
                value=r.value,
                occurred_at=_when(r.at),
            )
            for r in records
        ],
        batch_size=BATCH,
    )


def reset() -> None:
    """Forget the process's buffer and memory of exposed units (tests)."""
    global _local_since
    _seen.clear()
    with _local_lock:
        _local["exposures"], _local["events"] = [], []
        _local_since = time.monotonic()
