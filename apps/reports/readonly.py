"""Run one read-only statement on a database with a server-side time limit and a row limit.

Three layers, so that no single one has to be perfect:

1. The account: ``reporting`` and ``experiments_read`` connect with a SELECT-only account
   (and the servers are read-only replicas); the console's ``experiments`` target uses a
   separate read-only account, or, on SQLite, a connection in ``query_only`` mode.
2. The transaction: ``START TRANSACTION READ ONLY`` on MariaDB, and ``SET STATEMENT
   max_statement_time=... FOR`` the statement, so the *server* stops a slow query; on SQLite
   a progress handler interrupts it and an authorizer allows reads only.
3. The text: one SELECT statement, checked in ``console.py`` for a clear refusal message.

Rows are fetched unbuffered and only ``limit + 1`` of them are kept: one more than shown is
how the caller knows that there were more.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

# MariaDB error codes: statement time limit (ER_STATEMENT_TIMEOUT; MySQL's is 3024), writes
# in a read-only transaction, read_only server, and a privilege the account lacks.
TIMEOUT_CODES = frozenset({1969, 3024})
READ_ONLY_CODES = frozenset({1792, 1290, 1142, 1044, 1045, 1227})


class StatementTimeout(Exception):
    """The database stopped the statement because it ran past its time limit."""


class StatementRefusedByDatabase(Exception):
    """The database refused the statement as a write (account, transaction or server mode)."""


@dataclass(frozen=True)
class StatementResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]  # at most ``limit``
    truncated: bool  # the statement had more rows than ``limit``
    duration_ms: int


def _error_code(error: BaseException) -> int | None:
    args = getattr(error, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def run_read_only(
    connection: BaseDatabaseWrapper,
    sql: str,
    *,
    timeout_seconds: float,
    limit: int,
    hidden_tables: frozenset[str] = frozenset(),
) -> StatementResult:
    """Run ``sql`` (one SELECT, already checked) on ``connection`` without any way to write.

    Raises :class:`StatementTimeout`, :class:`StatementRefusedByDatabase` or the driver's
    own error (a syntax error, an unknown column: shown to the person as it is).
    """
    connection.ensure_connection()
    started = time.monotonic()
    if connection.vendor == "mysql":
        columns, rows = _run_mysql(connection, sql, timeout_seconds=timeout_seconds, limit=limit)
    elif connection.vendor == "sqlite":
        columns, rows = _run_sqlite(
            connection, sql, timeout_seconds=timeout_seconds, limit=limit, hidden=hidden_tables
        )
    else:  # pragma: no cover - the topology has MariaDB and SQLite only
        raise NotImplementedError(f"no read-only console for {connection.vendor}")
    return StatementResult(
        columns=columns,
        rows=rows[:limit],
        truncated=len(rows) > limit,
        duration_ms=round((time.monotonic() - started) * 1000),
    )


def _run_mysql(
    connection: BaseDatabaseWrapper, sql: str, *, timeout_seconds: float, limit: int
) -> tuple[list[str], list[tuple[Any, ...]]]:
    import MySQLdb
    from MySQLdb.cursors import SSCursor

    raw = connection.connection
    assert raw is not None
    # Whole milliseconds: max_statement_time takes seconds with a fraction.
    timeout = f"{max(timeout_seconds, 0.001):.3f}"
    # sql_select_limit stops the server after limit + 1 rows for a statement without a LIMIT
    # of its own; with one, rows past limit + 1 are read and dropped below.
    prefix = f"SET STATEMENT max_statement_time={timeout}, sql_select_limit={limit + 1} FOR "
    setup = raw.cursor()
    try:
        setup.execute("START TRANSACTION READ ONLY")
        cursor = raw.cursor(SSCursor)
        try:
            # No parameters: the driver leaves the text alone, so a % in it is just a %.
            cursor.execute(prefix + sql)
            columns = [column[0] for column in cursor.description or ()]
            rows = list(cursor.fetchmany(limit + 1))
        finally:
            with contextlib.suppress(MySQLdb.Error):
                cursor.close()  # reads what is left of the result, within the time limit
    except MySQLdb.OperationalError as error:
        code = _error_code(error)
        if code in TIMEOUT_CODES:
            raise StatementTimeout(str(error.args[-1])) from error
        if code in READ_ONLY_CODES:
            raise StatementRefusedByDatabase(str(error.args[-1])) from error
        raise
    except MySQLdb.ProgrammingError as error:
        if _error_code(error) in READ_ONLY_CODES:
            raise StatementRefusedByDatabase(str(error.args[-1])) from error
        raise
    finally:
        with contextlib.suppress(MySQLdb.Error):
            setup.execute("ROLLBACK")
        setup.close()
    return columns, [tuple(row) for row in rows]


# What an authorizer lets through: reading tables and columns, calling functions, and the
# SELECT itself (recursive CTEs included). Everything else (writes, DDL, ATTACH, PRAGMA) is
# denied by the engine before the statement runs.
_SQLITE_ALLOWED = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)


def _sqlite_authorizer(hidden: frozenset[str]) -> Callable[..., int]:
    def authorize(action: int, arg1: str | None, arg2: str | None, *_: Any) -> int:
        if action not in _SQLITE_ALLOWED:
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_READ and (arg1 or "").lower() in hidden:
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    return authorize


def _run_sqlite(
    connection: BaseDatabaseWrapper,
    sql: str,
    *,
    timeout_seconds: float,
    limit: int,
    hidden: frozenset[str],
) -> tuple[list[str], list[tuple[Any, ...]]]:
    raw: sqlite3.Connection = connection.connection
    deadline = time.monotonic() + timeout_seconds
    raw.execute("PRAGMA query_only = ON")
    raw.set_authorizer(_sqlite_authorizer(hidden))
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(sql)
            columns = [column[0] for column in cursor.description or ()]
            rows = cursor.fetchmany(limit + 1)
        finally:
            cursor.close()
    except sqlite3.OperationalError as error:
        if str(error) == "interrupted":
            raise StatementTimeout(f"interrupted after {timeout_seconds:g} s") from error
        if "readonly" in str(error) or "not authorized" in str(error):
            raise StatementRefusedByDatabase(str(error)) from error
        raise
    except sqlite3.DatabaseError as error:
        if "not authorized" in str(error) or "prohibited" in str(error):
            raise StatementRefusedByDatabase(str(error)) from error
        raise
    finally:
        raw.set_progress_handler(None, 0)
        raw.set_authorizer(None)
        raw.execute("PRAGMA query_only = OFF")
    return columns, [tuple(row) for row in rows]


@contextlib.contextmanager
def statement_time_limit(connection: BaseDatabaseWrapper, seconds: float) -> Iterator[None]:
    """Every statement on ``connection`` inside the block is stopped after ``seconds``.

    For report runs: the reporting replica must not be held by a runaway aggregate.
    """
    connection.ensure_connection()
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION max_statement_time = %s", [seconds])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET SESSION max_statement_time = DEFAULT")
    elif connection.vendor == "sqlite":
        raw: sqlite3.Connection = connection.connection
        deadline = time.monotonic() + seconds
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10000)
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)
    else:  # pragma: no cover
        yield
