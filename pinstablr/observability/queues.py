"""How many messages wait in each Celery queue, read from the broker when Prometheus asks.

A scrape must answer quickly whatever the broker does: the reading runs in a thread with a
hard deadline, and one reading serves every scrape of this process for a few seconds. A
broker that refuses, times out or hangs gives "unreachable" (``pinstablr_celery_broker_up``
0) within the deadline, never a hung ``/metrics``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueDepth:
    """Messages ready for delivery, and the consumers (worker processes) attached."""

    messages: int
    consumers: int


@dataclass(frozen=True)
class BrokerReading:
    reachable: bool
    queues: dict[str, QueueDepth] = field(default_factory=dict)
    read_at: float = 0.0  # monotonic clock
    seconds: float = 0.0  # how long the reading took
    error: str = ""


def broker_queue_depths(*, queues: Sequence[str], timeout: float) -> dict[str, QueueDepth]:
    """Depth of each queue, asked of the broker by a passive declare (creates nothing)."""
    from pinstablr.celery import app

    options: dict[str, object] = {}
    if str(app.conf.broker_url).startswith(("amqp://", "pyamqp://")):
        # Without these a broker that accepts the connection and then stalls holds us.
        options = {"read_timeout": timeout, "write_timeout": timeout}
    depths: dict[str, QueueDepth] = {}
    with app.connection_for_read(connect_timeout=timeout, transport_options=options) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        for name in queues:
            channel = conn.channel()
            try:
                _, messages, consumers = channel.queue_declare(queue=name, passive=True)
                depths[name] = QueueDepth(messages=int(messages), consumers=int(consumers))
            except conn.channel_errors:
                # Never declared: no worker has consumed it and nothing was sent to it.
                depths[name] = QueueDepth(messages=0, consumers=0)
            finally:
                with suppress(Exception):
                    channel.close()
    return depths


class QueueDepthReader:
    """Cached, deadline-bound readings of the queue depths, shared by a process's threads."""

    def __init__(
        self,
        *,
        read: Callable[[], dict[str, QueueDepth]],
        cache_seconds: float,
        timeout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._cache_seconds = cache_seconds
        self._timeout_seconds = timeout_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._last: BrokerReading | None = None
        self._running: threading.Event | None = None

    def reading(self) -> BrokerReading:
        """The latest reading, taking a new one if it is older than the cache time."""
        with self._lock:
            now = self._clock()
            if self._last is not None and now - self._last.read_at < self._cache_seconds:
                return self._last
            if self._running is not None and not self._running.is_set():
                # An earlier reading is still stuck on the broker: do not pile up threads.
                self._last = self._unreachable(now, "an earlier reading has not returned")
                return self._last
            done = threading.Event()
            self._running = done
            result: list[BrokerReading] = []
            thread = threading.Thread(
                target=self._take, args=(result, done), name="queue-depth", daemon=True
            )
            thread.start()
        if done.wait(self._timeout_seconds) and result:
            return self._store(result[0])
        return self._store(self._unreachable(now, f"no answer within {self._timeout_seconds:g}s"))

    def _take(self, result: list[BrokerReading], done: threading.Event) -> None:
        started = self._clock()
        try:
            queues = self._read()
        except Exception as error:  # any broker failure means the same: unreachable
            logger.warning("queue depths unavailable: %s: %s", type(error).__name__, error)
            reading = BrokerReading(
                reachable=False,
                read_at=started,
                seconds=self._clock() - started,
                error=f"{type(error).__name__}: {error}"[:300],
            )
        else:
            reading = BrokerReading(
                reachable=True, queues=queues, read_at=started, seconds=self._clock() - started
            )
        result.append(reading)
        done.set()

    def _unreachable(self, now: float, error: str) -> BrokerReading:
        return BrokerReading(reachable=False, read_at=now, seconds=self._clock() - now, error=error)

    def _store(self, reading: BrokerReading) -> BrokerReading:
        with self._lock:
            self._last = reading
        return reading


_reader: QueueDepthReader | None = None
_reader_lock = threading.Lock()


def get_reader() -> QueueDepthReader:
    """The process-wide reader, built from settings on first use."""
    global _reader
    with _reader_lock:
        if _reader is None:
            queues = list(settings.PINSTABLR_METRICS_QUEUES)
            timeout = settings.PINSTABLR_QUEUE_DEPTH_TIMEOUT_SECONDS
            _reader = QueueDepthReader(
                read=lambda: broker_queue_depths(queues=queues, timeout=timeout),
                cache_seconds=settings.PINSTABLR_QUEUE_DEPTH_CACHE_SECONDS,
                timeout_seconds=timeout,
            )
        return _reader


def set_reader(reader: QueueDepthReader | None) -> None:
    """Replace the process-wide reader (tests); None rebuilds it from settings on next use."""
    global _reader
    with _reader_lock:
        _reader = reader
