"""Statement guards installed on every connection to a read-only alias.

The database accounts of replicas and of ``reporting``/``experiments_read`` have no write
grants, so the servers refuse writes whatever happens here; this guard turns that into an
error that says what went wrong before a statement leaves the process (and covers SQLite,
whose read-only mode says only "attempt to write a readonly database").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, OperationalError

from . import state as routing

WRITE_KEYWORDS = frozenset(
    {
        "INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "UPSERT", "CREATE", "DROP",
        "ALTER", "TRUNCATE", "RENAME", "GRANT", "REVOKE", "LOAD", "CALL", "HANDLER",
    }
)  # fmt: skip


class ReadOnlyDatabaseError(DatabaseError):
    """A write was sent to a database alias that only replicates the primary."""


def first_keyword(sql: str) -> str:
    """The statement's leading keyword, upper-cased, past whitespace and parentheses."""
    stripped = sql.lstrip(" \t\r\n(")
    return stripped.split(None, 1)[0].upper() if stripped else ""


def refuse_writes(alias: str) -> Callable[..., Any]:
    """An execute wrapper that raises :class:`ReadOnlyDatabaseError` on writes to ``alias``."""

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        if first_keyword(sql) in WRITE_KEYWORDS:
            raise ReadOnlyDatabaseError(
                f"The '{alias}' database is a read-only copy of the primary; "
                "writes go to 'default' (refused: "
                f"{first_keyword(sql)} statement)."
            )
        return execute(sql, params, many, context)

    return wrapper


def record_replica_failures(alias: str) -> Callable[..., Any]:
    """An execute wrapper that notes a replica whose query failed, so the request can retry."""

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        try:
            return execute(sql, params, many, context)
        except OperationalError:
            routing.current().failed_replicas.add(alias)
            raise

    return wrapper
