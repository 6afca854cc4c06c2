"""The query console: one read-only SELECT on a database marketing or UX may query, logged.

What a console can read is decided by the database: each target is read through an account
that sees only the reportable columns of ``pinstablr/db/classification.py`` (a schema of
views on MariaDB, views and an authorizer on SQLite; see ``readonly.py``). The text is
checked first only so that a refusal says clearly what was wrong, and the database's own
refusals are explained with the same classification.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlparse
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend
from django.utils import timezone
from sqlparse import tokens as T

from apps.accounts.models import User
from apps.common.throttling import Window, count_hit
from pinstablr.db import classification
from pinstablr.db.classification import DataClass

from ..models import QueryRun, SavedQuery
from ..permissions import can_run_console
from ..readonly import Limits, StatementRefusedByDatabase, StatementTimeout, run_read_only

logger = logging.getLogger(__name__)

ALLOWED_TYPES = frozenset({"SELECT"})
# Words that turn a SELECT into something else: a file or variable write, or row locks on
# the replica that replication would then wait for.
FORBIDDEN_PHRASES = (
    (re.compile(r"\bINTO\b", re.IGNORECASE), "SELECT ... INTO writes a file or a variable"),
    (re.compile(r"\bFOR\s+UPDATE\b", re.IGNORECASE), "FOR UPDATE takes row locks"),
    (re.compile(r"\bLOCK\s+IN\s+SHARE\s+MODE\b", re.IGNORECASE), "LOCK IN SHARE MODE locks rows"),
)
# The schema each target reads, in the classification's terms.
TARGET_SCHEMAS: dict[str, str] = {
    SavedQuery.Target.REPORTING: classification.MAIN,
    SavedQuery.Target.EXPERIMENTS_READ: classification.MAIN,
    SavedQuery.Target.EXPERIMENTS: classification.EXPERIMENTS,
}
CLASS_WORDS = {
    DataClass.CREDENTIAL: "credentials",
    DataClass.PERSONAL: "personal data",
    DataClass.INTERNAL: "internal data",
}
# MariaDB's and SQLite's words for "you may not read that".
_DENIED_TABLE = re.compile(r"for table [`'\"]?(?:\w+[`'\"]?\.[`'\"]?)?(\w+)", re.IGNORECASE)
_UNKNOWN_COLUMN = re.compile(r"Unknown column '(?:\w+\.)?(\w+)'|no such column: (?:\w+\.)?(\w+)")
_MISSING_TABLE = re.compile(r"Table '(?:\w+\.)?(\w+)' doesn't exist|no such table: (?:\w+\.)?(\w+)")
_PROHIBITED = re.compile(r"access to (\w+)\.(\w*) is prohibited")


class QueryRefused(Exception):
    """The text is not one read-only statement; the message says why, for the person."""


@dataclass
class ConsoleOutcome:
    """What a console run shows: rows, or the reason there are none. Always logged."""

    status: str
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    truncated: bool = False
    cut_by_bytes: bool = False
    cells_cut: int = 0
    duration_ms: int = 0
    message: str = ""
    limits: Limits | None = None
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in (QueryRun.Status.OK, QueryRun.Status.TRUNCATED)


def console_targets() -> dict[str, str]:
    """Every target the console knows, with its label. ``default`` is never one of them."""
    return dict(SavedQuery.Target.choices)


def console_limits() -> Limits:
    """The time, row and byte limits of one console run, from the settings."""
    return Limits(
        timeout_seconds=settings.PINSTABLR_CONSOLE_STATEMENT_TIMEOUT_SECONDS,
        rows=settings.PINSTABLR_CONSOLE_ROW_LIMIT,
        bytes=settings.PINSTABLR_CONSOLE_MAX_BYTES,
        cell_chars=settings.PINSTABLR_CONSOLE_MAX_CELL_CHARS,
    )


def console_unreadable_tables(*, target: str) -> dict[str, DataClass]:
    """Tables of ``target``'s schema with no reportable column, with their class."""
    schema = TARGET_SCHEMAS[target]
    return {
        classification.table_name(key): table.default
        for key, table in classification.TABLES.items()
        if table.schema == schema and not table.reportable
    }


def _strip(sql: str) -> str:
    return sqlparse.format(sql, strip_comments=True).strip().rstrip(";").strip()


def query_check(*, sql: str, target: str = SavedQuery.Target.REPORTING) -> str:
    """The statement to run, or :class:`QueryRefused` with the reason.

    One statement, a SELECT (``WITH ... SELECT`` included), none of the clauses that write
    or lock, and no table the consoles cannot read. Only for clear messages: what is
    readable is enforced by the database.
    """
    try:
        statements = [s for s in sqlparse.split(sql or "") if _strip(s)]
        statement = _strip(statements[0]) if len(statements) == 1 else ""
        parsed = sqlparse.parse(statement)[0] if statement else None
    except Exception as error:  # sqlparse's own limits (nesting, size): still a clear answer
        raise QueryRefused(
            f"This text could not be read as SQL ({type(error).__name__}); simplify it and "
            "try again."
        ) from error
    if not statements:
        raise QueryRefused("Write a SELECT query to run.")
    if len(statements) > 1:
        raise QueryRefused(
            f"Only one statement can run at a time; this text has {len(statements)}. "
            "Remove every statement but the SELECT you want."
        )
    assert parsed is not None
    kind = parsed.get_type()
    first = statement.lstrip("( \t\r\n").split(None, 1)[0].upper()
    if kind not in ALLOWED_TYPES and not (kind == "UNKNOWN" and first in ("SELECT", "WITH")):
        verb = first if kind == "UNKNOWN" else kind
        raise QueryRefused(
            f"Only SELECT queries can run here; {verb} statements are refused. The console "
            "reads a copy of the data and never changes anything."
        )
    for pattern, reason in FORBIDDEN_PHRASES:
        if pattern.search(_without_literals(parsed)):
            raise QueryRefused(f"Refused: {reason}. The console only reads.")
    unreadable = console_unreadable_tables(target=target)
    for token in parsed.flatten():
        name = token.value.strip('`"[]').lower()
        is_name = token.ttype in T.Name or token.ttype in T.Literal.String.Symbol
        if is_name and name in unreadable:
            raise QueryRefused(_unreadable_table_message(name, unreadable[name]))
    return statement


def _unreadable_table_message(table: str, data_class: DataClass) -> str:
    return (
        f"The table {table} holds {CLASS_WORDS[data_class]} and cannot be queried here. "
        "Use the reports, or ask an administrator."
    )


def _without_literals(parsed: sqlparse.sql.Statement) -> str:
    """The statement with string literals and comments blanked, for keyword searches."""
    return " ".join(
        "''" if token.ttype in T.Literal.String else token.value
        for token in parsed.flatten()
        if token.ttype not in T.Comment
    )


def explain_refusal(*, target: str, error: str) -> str:
    """The database's refusal in the classification's words, with what can be read instead."""
    schema = TARGET_SCHEMAS[target]
    if match := _PROHIBITED.search(error):
        table, column = match.groups()
        return _hidden_column_message(schema, column, tables=[table]) or (
            f"Read {table} by its plain name: the console reads its own copy of each table."
        )
    if match := _DENIED_TABLE.search(error):
        return (
            f"The console cannot read {match.group(1)} there: it reads the console's copy of "
            "each table, by its plain name, with the columns that may be reported on."
        )
    return f"The database refused to run this as a read-only query: {error}"


def explain_error(*, target: str, error: str) -> tuple[bool, str]:
    """A database error in the classification's words where it names a withheld column or
    table: (whether the classification withheld it, the message)."""
    schema = TARGET_SCHEMAS[target]
    if (match := _UNKNOWN_COLUMN.search(error)) and (
        message := _hidden_column_message(schema, match.group(1) or match.group(2))
    ):
        return True, message
    if match := _MISSING_TABLE.search(error):
        table = match.group(1) or match.group(2) or ""
        if data_class := console_unreadable_tables(target=target).get(table):
            return True, _unreadable_table_message(table, data_class)
    return False, f"The database answered with an error: {error}"


@functools.cache
def _model_columns() -> dict[str, tuple[str, ...]]:
    return {
        model._meta.db_table: tuple(str(field.column) for field in model._meta.local_fields)
        for model in apps.get_models(include_auto_created=True)
    }


def _hidden_column_message(schema: str, column: str, *, tables: list[str] | None = None) -> str:
    """Why ``column`` (of ``tables``, or of any table that has it) cannot be read; or ""."""
    candidates = tables or [
        table for table, columns in _model_columns().items() if column in columns
    ]
    for name in candidates:
        classified = classification.table_for(schema, name)
        if classified is None or column in classified.reportable:
            continue
        readable = ", ".join(classified.reportable) or "none"
        return (
            f"{name}.{column} holds {CLASS_WORDS[classified.column_class(column)]} and cannot "
            f"be read here. Columns of {name} you can query: {readable}."
        )
    return ""


@contextlib.contextmanager
def console_connection(*, target: str) -> Iterator[BaseDatabaseWrapper]:
    """The connection a console target reads through; never ``default``.

    A target with a console account (``PINSTABLR_CONSOLE_*_URL``) gets a connection of its
    own for the run, closed afterwards. Without one, SQLite targets are read through their
    own read-only alias (views and the authorizer are set per run); a MariaDB target has no
    console, since its alias's account may read every column.
    """
    if target not in console_targets():
        raise PermissionDenied(f"No console for {target!r}.")
    config = settings.PINSTABLR_CONSOLE_DATABASES.get(target)
    if config is None:
        alias = connections[target]
        if alias.vendor != "sqlite":
            raise QueryRefused(
                f"The {console_targets()[target]} has no console account configured "
                f"(PINSTABLR_CONSOLE_{target.upper()}_URL); ask an administrator."
            )
        yield alias
        return
    backend = load_backend(config["ENGINE"])
    connection = backend.DatabaseWrapper({**connections[target].settings_dict, **config}, target)
    try:
        yield connection
    finally:
        connection.close()


@contextlib.contextmanager
def _one_run_at_a_time(user: User) -> Iterator[None]:
    """One running console query per person, and a per-minute budget of runs."""
    limits = console_limits()
    key = f"console:running:{user.pk}"
    # add() answers None when the cache is down: the limits protect, they do not block.
    if cache.add(key, 1, timeout=int(limits.timeout_seconds) + 30) is False:
        raise QueryRefused(
            "You already have a query running; wait for it to finish (at most "
            f"{limits.timeout_seconds:g} seconds) and run this one again."
        )
    try:
        minute = int(time.time() // 60)
        budget = Window(
            f"console:runs:{user.pk}:{minute}", settings.PINSTABLR_CONSOLE_RUNS_PER_MINUTE, 60
        )
        # The API's fixed-window counter; 0 (let through) when the cache is down.
        if count_hit(budget) > budget.limit:
            raise QueryRefused(
                f"You have run {budget.limit} queries in the last minute, the console's limit; "
                "wait a minute and run this one again."
            )
        yield
    finally:
        cache.delete(key)


def console_run(
    *,
    user: User,
    target: str,
    sql: str,
    saved_query: SavedQuery | None = None,
) -> ConsoleOutcome:
    """Run ``sql`` on ``target`` for ``user`` and log the run, whatever its outcome.

    Without ``saved_query`` the user needs the console permission for ``target``; running a
    saved query needs only the right to see it (checked by the caller), since sharing its
    results is the point of sharing it.
    """
    if saved_query is None and not can_run_console(user, target):
        raise PermissionDenied("You may not query this database.")
    limits = console_limits()
    outcome = ConsoleOutcome(status=QueryRun.Status.ERROR, limits=limits)
    started = timezone.now()
    try:
        statement = query_check(sql=sql, target=target)
        with _one_run_at_a_time(user), console_connection(target=target) as connection:
            result = run_read_only(
                connection, statement, limits=limits, classification=TARGET_SCHEMAS[target]
            )
    except QueryRefused as error:
        outcome.status, outcome.message = QueryRun.Status.REFUSED, str(error)
    except StatementRefusedByDatabase as error:
        outcome.status = QueryRun.Status.REFUSED
        outcome.message = explain_refusal(target=target, error=str(error))
    except StatementTimeout:
        outcome.status = QueryRun.Status.TIMEOUT
        outcome.message = (
            f"Stopped by the database after {limits.timeout_seconds:g} seconds, the console's "
            "limit. Narrow the date range, filter earlier or aggregate more, then try again; "
            "scheduled reports have no such limit."
        )
    except Exception as error:  # the driver's own errors (syntax, unknown column) included
        if not isinstance(error, DatabaseError) and not _is_driver_error(error):
            raise
        withheld, outcome.message = explain_error(target=target, error=_driver_message(error))
        if withheld:
            outcome.status = QueryRun.Status.REFUSED
    else:
        outcome.status = QueryRun.Status.TRUNCATED if result.kept.truncated else QueryRun.Status.OK
        outcome.columns, outcome.rows = result.columns, result.kept.rows
        outcome.truncated, outcome.duration_ms = result.kept.truncated, result.duration_ms
        outcome.cut_by_bytes, outcome.cells_cut = result.kept.cut_by_bytes, result.kept.cells_cut
    if not outcome.duration_ms:
        outcome.duration_ms = round((timezone.now() - started).total_seconds() * 1000)
    run = QueryRun.objects.create(
        user=user,
        saved_query=saved_query,
        target=target,
        sql=sql,
        status=outcome.status,
        started_at=started,
        duration_ms=outcome.duration_ms,
        row_count=len(outcome.rows),
        error="" if outcome.ok else outcome.message,
    )
    outcome.run_id = run.pk
    logger.info(
        "console run %s by %s on %s: %s, %d rows in %d ms",
        run.pk, user.pk, target, outcome.status, len(outcome.rows), outcome.duration_ms,
    )  # fmt: skip
    return outcome


def _is_driver_error(error: Exception) -> bool:
    import sqlite3

    try:
        import MySQLdb
    except ImportError:  # pragma: no cover
        return isinstance(error, sqlite3.Error)
    return isinstance(error, sqlite3.Error | MySQLdb.Error)


def _driver_message(error: Exception) -> str:
    args = getattr(error, "args", ())
    return str(args[-1]) if args else str(error)
