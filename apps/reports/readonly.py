"""Run one read-only statement for a console: a server-side time limit, row and byte limits.

Layers, so that no single one has to be perfect:

1. What the account can see: on MariaDB the consoles connect with accounts that read a schema
   of views holding only reportable columns (``pinstablr/db/console_schema.py``); on SQLite
   the statement runs against temporary views of the same shape, and an authorizer lets it
   read base tables only through them (``pinstablr/db/classification.py`` drives both).
2. The transaction: ``START TRANSACTION READ ONLY`` and ``SET STATEMENT max_statement_time
   ... FOR`` the statement on MariaDB, so the *server* stops a slow query; on SQLite a
   progress handler interrupts it, ``query_only`` and the authorizer refuse every write.
3. The text: one SELECT statement, checked in ``console.py`` for a clear refusal message.

Rows are fetched unbuffered and kept until ``limit`` rows or ``max_bytes`` of values: one
row more than shown is how the caller knows there were more. A value longer than
``max_cell_chars`` is cut.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from pinstablr.db.classification import is_reportable, reportable_columns

# MariaDB error codes: statement time limit (ER_STATEMENT_TIMEOUT; MySQL's is 3024), writes
# in a read-only transaction, read_only server, and a privilege the account lacks.
TIMEOUT_CODES = frozenset({1969, 3024})
READ_ONLY_CODES = frozenset({1792, 1290, 1142, 1143, 1044, 1045, 1227})
FETCH_BATCH = 100
# SQLite's words for a statement it will not run here (a write reaches a view, not a table).
SQLITE_REFUSALS = ("readonly", "not authorized", "prohibited", "it is a view")


class StatementTimeout(Exception):
    """The database stopped the statement because it ran past its time limit."""


class StatementRefusedByDatabase(Exception):
    """The database refused the statement: a write, or data the account may not read."""


@dataclass(frozen=True)
class Limits:
    """How long a statement may run and how much of its result is kept."""

    timeout_seconds: float
    rows: int
    bytes: int
    cell_chars: int


@dataclass(frozen=True)
class Kept:
    """The rows kept of a result, and what the limits cut."""

    rows: list[tuple[Any, ...]]  # within the limits
    truncated: bool  # the statement had more rows than were kept
    cut_by_bytes: bool  # ... and it was the byte limit that cut them
    cells_cut: int  # values cut at the cell limit


@dataclass(frozen=True)
class StatementResult:
    columns: list[str]
    kept: Kept
    duration_ms: int


def _error_code(error: BaseException) -> int | None:
    args = getattr(error, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _cell(value: Any, max_chars: int) -> tuple[Any, int, bool]:
    """The value as kept, its size in characters, and whether it was cut."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value)
        if len(value) > max_chars:
            return value[:max_chars] + b"...", max_chars, True
        return value, len(value), False
    if isinstance(value, str):
        if len(value) > max_chars:
            return value[:max_chars] + "…", max_chars, True
        return value, len(value), False
    return value, len(str(value)) if value is not None else 0, False


def _collect(cursor: Any, limits: Limits) -> Kept:
    """The rows within the limits, fetched a batch at a time."""
    rows: list[tuple[Any, ...]] = []
    size = cut = 0
    while batch := cursor.fetchmany(FETCH_BATCH):
        for raw in batch:
            if len(rows) == limits.rows:
                return Kept(rows, truncated=True, cut_by_bytes=False, cells_cut=cut)
            cells = [_cell(value, limits.cell_chars) for value in raw]
            size += sum(length for _, length, _ in cells)
            if size > limits.bytes:
                return Kept(rows, truncated=True, cut_by_bytes=True, cells_cut=cut)
            cut += sum(was_cut for _, _, was_cut in cells)
            rows.append(tuple(kept for kept, _, _ in cells))
    return Kept(rows, truncated=False, cut_by_bytes=False, cells_cut=cut)


def run_read_only(
    connection: BaseDatabaseWrapper, sql: str, *, limits: Limits, classification: str
) -> StatementResult:
    """Run ``sql`` (one SELECT, already checked) on ``connection`` without any way to write.

    ``classification`` names the schema the statement reads (``classification.MAIN`` or
    ``EXPERIMENTS``): on SQLite only its reportable columns are readable. Raises
    :class:`StatementTimeout`, :class:`StatementRefusedByDatabase` or the driver's own error
    (a syntax error, an unknown column: shown to the person as it is).
    """
    connection.ensure_connection()
    started = time.monotonic()
    if connection.vendor == "mysql":
        columns, kept = _run_mysql(connection, sql, limits=limits)
    elif connection.vendor == "sqlite":
        columns, kept = _run_sqlite(connection, sql, limits=limits, schema=classification)
    else:  # pragma: no cover - the topology has MariaDB and SQLite only
        raise NotImplementedError(f"no read-only console for {connection.vendor}")
    return StatementResult(columns, kept, round((time.monotonic() - started) * 1000))


def _run_mysql(
    connection: BaseDatabaseWrapper, sql: str, *, limits: Limits
) -> tuple[list[str], Kept]:
    import MySQLdb
    from MySQLdb.cursors import SSCursor

    raw = connection.connection
    assert raw is not None
    # Whole milliseconds: max_statement_time takes seconds with a fraction.
    timeout = f"{max(limits.timeout_seconds, 0.001):.3f}"
    # sql_select_limit stops the server after rows + 1 rows for a statement without a LIMIT
    # of its own; with one, the rows past the limits are left unread (and dropped on close).
    prefix = f"SET STATEMENT max_statement_time={timeout}, sql_select_limit={limits.rows + 1} FOR "
    setup = raw.cursor()
    try:
        setup.execute("START TRANSACTION READ ONLY")
        cursor = raw.cursor(SSCursor)
        try:
            # No parameters: the driver leaves the text alone, so a % in it is just a %.
            cursor.execute(prefix + sql)
            columns = [column[0] for column in cursor.description or ()]
            kept = _collect(cursor, limits)
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
    return columns, kept


def _sqlite_authorizer(schema: str, views: frozenset[str]) -> Callable[..., int]:
    """Reads of base tables only through the console's views, and of reportable columns.

    SQLite, like MariaDB, does not report the columns a ``JOIN ... USING`` or ``NATURAL
    JOIN`` compares to the authorizer, so a check of column reads alone would leak them; a
    statement that reads a base table directly (``main.accounts_user``) is denied whole.
    """

    def authorize(action: int, table: str | None, column: str | None, db: str | None,
                  view: str | None) -> int:  # fmt: skip
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action != sqlite3.SQLITE_READ:
            return sqlite3.SQLITE_DENY
        if db is None:  # a common table expression: no stored data of its own
            return sqlite3.SQLITE_OK
        if table not in views:
            return sqlite3.SQLITE_DENY
        if db == "temp" or column == "":  # the view itself; a row count without values
            return sqlite3.SQLITE_OK
        if view == table and is_reportable(schema, table, column or ""):
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    return authorize


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextlib.contextmanager
def _sqlite_console_views(raw: sqlite3.Connection, schema: str) -> Iterator[frozenset[str]]:
    """Temporary views named like the tables, with their reportable columns, for one run."""
    present = {
        name for (name,) in raw.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")
    }
    created: list[str] = []
    try:
        for table, columns in reportable_columns(schema).items():
            if table not in present:
                continue
            existing = {row[1] for row in raw.execute(f"PRAGMA main.table_info({_quote(table)})")}
            names = ", ".join(_quote(column) for column in columns if column in existing)
            if names:
                raw.execute(f"DROP VIEW IF EXISTS temp.{_quote(table)}")
                raw.execute(
                    f"CREATE TEMP VIEW {_quote(table)} AS SELECT {names} FROM main.{_quote(table)}"  # noqa: S608
                )
                created.append(table)
        yield frozenset(created)
    finally:
        for table in created:
            raw.execute(f"DROP VIEW IF EXISTS temp.{_quote(table)}")


def _run_sqlite(
    connection: BaseDatabaseWrapper, sql: str, *, limits: Limits, schema: str
) -> tuple[list[str], Kept]:
    raw: sqlite3.Connection = connection.connection
    deadline = time.monotonic() + limits.timeout_seconds
    with _sqlite_console_views(raw, schema) as views:
        raw.execute("PRAGMA query_only = ON")
        raw.set_authorizer(_sqlite_authorizer(schema, views))
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(sql)
                columns = [column[0] for column in cursor.description or ()]
                kept = _collect(cursor, limits)
            finally:
                cursor.close()
        except sqlite3.DatabaseError as error:  # OperationalError included
            if str(error) == "interrupted":
                raise StatementTimeout(f"interrupted after {limits.timeout_seconds:g} s") from error
            if any(word in str(error) for word in SQLITE_REFUSALS):
                raise StatementRefusedByDatabase(str(error)) from error
            raise
        finally:
            raw.set_progress_handler(None, 0)
            raw.set_authorizer(None)
            raw.execute("PRAGMA query_only = OFF")
    return columns, kept


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
