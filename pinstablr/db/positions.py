"""Replication positions (MariaDB GTID lists) and how to compare them.

A MariaDB GTID is ``domain-server-sequence``; a position is a comma-separated list with one
GTID per replication domain. A replica has applied a position when, in every domain of that
position, its own sequence number is at least as high.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper


def parse(position: str | None) -> dict[int, int]:
    """``"0-1-25,1-2-3"`` -> ``{0: 25, 1: 3}``; malformed entries are ignored."""
    sequences: dict[int, int] = {}
    for gtid in (position or "").split(","):
        parts = gtid.strip().split("-")
        if len(parts) != 3 or not all(part.isdigit() for part in parts):
            continue
        domain, sequence = int(parts[0]), int(parts[2])
        sequences[domain] = max(sequence, sequences.get(domain, -1))
    return sequences


def has_applied(applied: str | None, required: str | None) -> bool:
    """Whether a server at position ``applied`` has every transaction of ``required``."""
    needed = parse(required)
    have = parse(applied)
    return all(have.get(domain, -1) >= sequence for domain, sequence in needed.items())


def supports_positions(connection: BaseDatabaseWrapper) -> bool:
    """Positions exist on MySQL-family servers; SQLite has none."""
    return connection.vendor == "mysql"


def primary_position(connection: BaseDatabaseWrapper) -> str | None:
    """The primary's position after this connection's last write, or None if unknown.

    ``@@last_gtid`` is exactly this session's last transaction; the binlog position is a
    safe upper bound when the session wrote nothing that reached the binlog.
    """
    if not supports_positions(connection):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@last_gtid, @@global.gtid_binlog_pos")
        last_gtid, binlog_pos = cursor.fetchone()
    return last_gtid or binlog_pos or None
