"""Replica health: which replicas may serve reads right now, as seen by this process.

Each replica is probed at most once per check interval (its lag and applied position in one
statement). A replica that fails a probe or a query is skipped for a cooldown; one lagging
past the bound is skipped until a later probe finds it caught up. Nothing here raises: the
worst outcome of a sick replica is that reads go to the primary.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

from . import positions

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Probe:
    """One reading of a replica: seconds behind the primary (None: not applying) and position."""

    lag: float | None
    position: str | None


@dataclass
class ReplicaStatus:
    alias: str
    checked_at: float = float("-inf")
    down_until: float = float("-inf")
    lag: float | None = None
    position: str | None = None
    error: str = ""


def connect_replica(alias: str) -> None:
    """Open (or check) this thread's connection to ``alias`` now, so a dead server shows here,
    where another replica can be picked, rather than in the middle of a query.

    A connection kept from an earlier request (``CONN_MAX_AGE``) is pinged first, as Django's
    health check would do on its first query, and reopened if the server went away.
    """
    connection = connections[alias]
    connection.close_if_health_check_failed()
    connection.ensure_connection()


def probe_replica(alias: str) -> Probe:
    """Read a replica's lag and applied position over its own connection."""
    connection = connections[alias]
    if not positions.supports_positions(connection):
        # The embedded SQLite "replica" is the primary's own file: never behind.
        connection.ensure_connection()
        return Probe(lag=0.0, position=None)
    with connection.cursor() as cursor:
        # MariaDB: unlike SHOW SLAVE STATUS, this one also reports Gtid_Slave_Pos (the applied
        # position), and a SHOW costs no SELECT on the replica's counters.
        cursor.execute("SHOW ALL SLAVES STATUS")
        row = cursor.fetchone()
        if row is None:  # not replicating from anything: a primary standing in for a replica
            return Probe(lag=0.0, position=None)
        columns = [column[0] for column in cursor.description]
    status = dict(zip(columns, row, strict=True))
    lag = status.get("Seconds_Behind_Master")
    return Probe(
        lag=None if lag is None else float(lag), position=status.get("Gtid_Slave_Pos") or None
    )


class ReplicaPool:
    """Health of a process's replicas, shared by its threads."""

    def __init__(
        self,
        aliases: Iterable[str],
        *,
        probe: Callable[[str], Probe] = probe_replica,
        connect: Callable[[str], None] = connect_replica,
        clock: Callable[[], float] = time.monotonic,
        check_seconds: float = 1.0,
        cooldown_seconds: float = 10.0,
        max_lag_seconds: float = 30.0,
    ) -> None:
        self.statuses = {alias: ReplicaStatus(alias) for alias in aliases}
        self._probe = probe
        self._connect = connect
        self._clock = clock
        self._check_seconds = check_seconds
        self._cooldown_seconds = cooldown_seconds
        self._max_lag_seconds = max_lag_seconds
        self._lock = threading.Lock()

    @property
    def aliases(self) -> list[str]:
        return list(self.statuses)

    def mark_down(self, alias: str, error: object) -> None:
        """Skip ``alias`` for the cooldown; its connection is dropped so a retry reconnects."""
        with self._lock:
            status = self.statuses[alias]
            status.down_until = self._clock() + self._cooldown_seconds
            status.error = str(error)[:300]
        logger.warning("replica %s taken out for %ss: %s", alias, self._cooldown_seconds, error)
        close_quietly(alias)

    def is_down(self, alias: str) -> bool:
        return self._clock() < self.statuses[alias].down_until

    def refresh(self, alias: str, *, force: bool = False) -> ReplicaStatus:
        """Probe ``alias`` if its last reading is older than the check interval."""
        status = self.statuses[alias]
        now = self._clock()
        if not force and now - status.checked_at < self._check_seconds:
            return status
        try:
            reading = self._probe(alias)
        except DatabaseError as error:
            self.mark_down(alias, error)
            return status
        with self._lock:
            status.checked_at = now
            status.lag = reading.lag
            status.position = reading.position
            status.error = ""
        return status

    def serves(self, alias: str, required_position: str | None) -> bool:
        """Whether ``alias`` may serve a read that must see ``required_position``."""
        if self.is_down(alias):
            return False
        status = self.refresh(alias)
        if self.is_down(alias):
            return False
        if status.lag is None or status.lag > self._max_lag_seconds:
            return False
        if required_position is None:
            return True
        if positions.has_applied(status.position, required_position):
            return True
        # The cached reading may predate the write: one fresh reading before giving up.
        status = self.refresh(alias, force=True)
        return not self.is_down(alias) and positions.has_applied(status.position, required_position)

    def pick(self, required_position: str | None, exclude: set[str]) -> str | None:
        """A replica that may serve the read, spreading load at random; None if there is none."""
        candidates = [alias for alias in self.statuses if alias not in exclude]
        random.shuffle(candidates)
        for alias in candidates:
            if not self.serves(alias, required_position):
                continue
            try:
                self._connect(alias)
            except DatabaseError as error:
                self.mark_down(alias, error)
                continue
            return alias
        return None


def close_quietly(alias: str) -> None:
    """Close this thread's connection to ``alias``, ignoring errors from a dead server."""
    with suppress(DatabaseError):
        connections[alias].close()


_pool: ReplicaPool | None = None
_pool_lock = threading.Lock()


def get_pool() -> ReplicaPool:
    """The process-wide pool, built from settings on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ReplicaPool(
                settings.PINSTABLR_REPLICAS,
                check_seconds=settings.PINSTABLR_REPLICA_CHECK_SECONDS,
                cooldown_seconds=settings.PINSTABLR_REPLICA_COOLDOWN_SECONDS,
                max_lag_seconds=settings.PINSTABLR_REPLICA_MAX_LAG_SECONDS,
            )
        return _pool


def set_pool(pool: ReplicaPool | None) -> None:
    """Replace the process-wide pool (tests); None rebuilds it from settings on next use."""
    global _pool
    with _pool_lock:
        _pool = pool
