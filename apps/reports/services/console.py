"""The query console: one read-only SELECT on a database marketing or UX may query, logged.

The text is checked first so that a refusal says clearly what was wrong; the database account
and a read-only transaction are what actually keep the data safe (see ``readonly.py``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import sqlparse
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from sqlparse import tokens as T

from apps.accounts.models import User

from ..models import QueryRun, SavedQuery
from ..permissions import can_run_console
from ..readonly import StatementRefusedByDatabase, StatementTimeout, run_read_only

logger = logging.getLogger(__name__)

ALLOWED_TYPES = frozenset({"SELECT"})
# Words that turn a SELECT into something else: a file or variable write, or row locks on
# the replica that replication would then wait for.
FORBIDDEN_PHRASES = (
    (re.compile(r"\bINTO\b", re.IGNORECASE), "SELECT ... INTO writes a file or a variable"),
    (re.compile(r"\bFOR\s+UPDATE\b", re.IGNORECASE), "FOR UPDATE takes row locks"),
    (re.compile(r"\bLOCK\s+IN\s+SHARE\s+MODE\b", re.IGNORECASE), "LOCK IN SHARE MODE locks rows"),
)


class QueryRefused(Exception):
    """The text is not one read-only statement; the message says why, for the person."""


@dataclass
class ConsoleOutcome:
    """What a console run shows: rows, or the reason there are none. Always logged."""

    status: str
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    truncated: bool = False
    duration_ms: int = 0
    message: str = ""
    limit: int = 0
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in (QueryRun.Status.OK, QueryRun.Status.TRUNCATED)


def console_targets() -> dict[str, str]:
    """Every target the console knows, with its label. ``default`` is never one of them."""
    return dict(SavedQuery.Target.choices)


def console_hidden_tables() -> frozenset[str]:
    """Tables the console refuses to read: credentials and personal data."""
    return frozenset(name.lower() for name in settings.PINSTABLR_CONSOLE_HIDDEN_TABLES)


def _strip(sql: str) -> str:
    return sqlparse.format(sql, strip_comments=True).strip().rstrip(";").strip()


def query_check(sql: str) -> str:
    """The statement to run, or :class:`QueryRefused` with the reason.

    One statement, a SELECT (``WITH ... SELECT`` included), none of the clauses that write
    or lock, and no hidden table.
    """
    statements = [s for s in sqlparse.split(sql or "") if _strip(s)]
    if not statements:
        raise QueryRefused("Write a SELECT query to run.")
    if len(statements) > 1:
        raise QueryRefused(
            f"Only one statement can run at a time; this text has {len(statements)}. "
            "Remove every statement but the SELECT you want."
        )
    statement = _strip(statements[0])
    parsed = sqlparse.parse(statement)[0]
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
    hidden = console_hidden_tables()
    for token in parsed.flatten():
        name = token.value.strip('`"[]')
        is_name = token.ttype in T.Name or token.ttype in T.Literal.String.Symbol
        if is_name and name.lower() in hidden:
            raise QueryRefused(
                f"The table {name} holds credentials or personal data and cannot be queried "
                "here. Use the reports, or ask an administrator."
            )
    return statement


def _without_literals(parsed: sqlparse.sql.Statement) -> str:
    """The statement with string literals and comments blanked, for keyword searches."""
    return " ".join(
        "''" if token.ttype in T.Literal.String else token.value
        for token in parsed.flatten()
        if token.ttype not in T.Comment
    )


def console_connection(target: str) -> BaseDatabaseWrapper:
    """The connection a console target reads through; never ``default``."""
    if target not in console_targets():
        raise PermissionDenied(f"No console for {target!r}.")
    if target == SavedQuery.Target.EXPERIMENTS:
        return experiments_console_connection()
    return connections[target]


def experiments_console_connection() -> BaseDatabaseWrapper:
    """The experiments database through a read-only account.

    The ``experiments`` alias connects with the experiments app's read-write account, so the
    console uses ``PINSTABLR_CONSOLE_EXPERIMENTS_URL`` (a SELECT-only account) instead. With
    the embedded SQLite default the alias itself is used in ``query_only`` mode, which SQLite
    enforces for the connection.
    """
    alias = "reports_console_experiments"
    url = settings.PINSTABLR_CONSOLE_EXPERIMENTS_URL
    if not url:
        if connections["experiments"].vendor == "sqlite":
            return connections["experiments"]
        raise QueryRefused(
            "The experiments database has no read-only account configured "
            "(PINSTABLR_CONSOLE_EXPERIMENTS_URL); use experiments_read instead."
        )
    if alias not in connections.settings:
        import environ
        from django.db.utils import load_backend

        config = environ.Env.db_url_config(url)
        if config["ENGINE"] == "django.db.backends.mysql":
            config.setdefault("OPTIONS", {}).update(charset="utf8mb4", connect_timeout=2)
        connections.settings[alias] = config
        connections.configure_settings(connections.settings)
        backend = load_backend(config["ENGINE"])
        connections[alias] = backend.DatabaseWrapper(connections.settings[alias], alias)
    return connections[alias]


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
    limit = settings.PINSTABLR_CONSOLE_ROW_LIMIT
    timeout = settings.PINSTABLR_CONSOLE_STATEMENT_TIMEOUT_SECONDS
    outcome = ConsoleOutcome(status=QueryRun.Status.ERROR, limit=limit)
    started = timezone.now()
    try:
        statement = query_check(sql)
        result = run_read_only(
            console_connection(target),
            statement,
            timeout_seconds=timeout,
            limit=limit,
            hidden_tables=console_hidden_tables(),
        )
    except QueryRefused as error:
        outcome.status, outcome.message = QueryRun.Status.REFUSED, str(error)
    except StatementRefusedByDatabase as error:
        outcome.status = QueryRun.Status.REFUSED
        outcome.message = f"The database refused to run this as a read-only query: {error}"
    except StatementTimeout:
        outcome.status = QueryRun.Status.TIMEOUT
        outcome.message = (
            f"Stopped by the database after {timeout:g} seconds, the console's limit. "
            "Narrow the date range, filter earlier or aggregate more, then try again; "
            "scheduled reports have no such limit."
        )
    except DatabaseError as error:
        outcome.message = f"The database answered with an error: {error}"
    except Exception as error:  # the driver's own errors (syntax, unknown column) included
        if not _is_driver_error(error):
            raise
        outcome.message = f"The database answered with an error: {_driver_message(error)}"
    else:
        outcome.status = QueryRun.Status.TRUNCATED if result.truncated else QueryRun.Status.OK
        outcome.columns, outcome.rows = result.columns, result.rows
        outcome.truncated, outcome.duration_ms = result.truncated, result.duration_ms
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
