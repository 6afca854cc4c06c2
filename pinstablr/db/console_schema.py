"""The query consoles' way into MariaDB: a schema of views generated from the classification.

Why views and not column grants alone: MariaDB 10.11 checks column privileges on the columns
a statement selects, filters, groups and orders by, but not on the columns that ``JOIN ...
USING`` or ``NATURAL JOIN`` match. With SELECT granted on ``accounts_user.id`` only,
``SELECT u.id FROM accounts_user u JOIN (SELECT 'a@b.example' AS email) x USING (email)``
still answers whether that address has an account, and the same works for password hashes.
In a view that lists only reportable columns the other columns do not exist.

For each database a console reads (the primary's schema, the experiments database):

- the console schema (the database named in the console account's URL, by convention
  ``<base>_console``) holds one view per classified table, with its reportable columns;
- the views run as a definer account that cannot log in (``ACCOUNT LOCK``) and holds SELECT
  on exactly those columns of the base tables, so even a view changed by hand reaches no more;
- each console account holds SELECT on the console schema and nothing else.

Everything is written on the primary (or the experiments server) by an administrator account
and reaches the replicas by replication. :func:`console_access_problems` checks, as the
console account itself, that it sees no more than the classification allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import environ
from django.conf import settings

from .classification import EXPERIMENTS as EXPERIMENTS_SCHEMA
from .classification import MAIN, is_reportable, reportable_columns
from .config import EXPERIMENTS, EXPERIMENTS_READ, PRIMARY, REPORTING

VIEW_SUFFIX = "_views"
# Access denied for the user, or to its database: the console is misconfigured, not down.
ACCESS_DENIED_CODES = frozenset({1044, 1045, 1049})


@dataclass(frozen=True)
class Account:
    user: str
    password: str


@dataclass(frozen=True)
class ConsoleSchemaPlan:
    """What one database's consoles get: the base schema, the console schema, the readers."""

    classification: str  # classification.MAIN or classification.EXPERIMENTS
    base: str
    console: str
    readers: tuple[Account, ...]

    @property
    def definer_user(self) -> str:
        """The account the views run as (host ``localhost``; it never signs in)."""
        return self.console + VIEW_SUFFIX

    @property
    def definer(self) -> str:
        return f"{quote_string(self.definer_user)}@'localhost'"


def quote_name(name: str) -> str:
    """A MariaDB identifier in backquotes."""
    return "`" + name.replace("`", "``") + "`"


def quote_string(value: str) -> str:
    """A MariaDB string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def plan_for(
    *, classification: str, base: str, consoles: Iterable[dict[str, Any]]
) -> ConsoleSchemaPlan:
    """The plan for the console accounts of ``consoles`` (Django connection settings) that
    read ``base``: they must name one console schema, not the base schema itself."""
    consoles = list(consoles)
    schemas = {config["NAME"] for config in consoles}
    if len(schemas) != 1:
        raise ValueError(f"the consoles of {base} must read one console schema, not {schemas}")
    console = schemas.pop()
    if console == base:
        raise ValueError(f"a console URL names the base schema {base}: name its schema of views")
    readers = {config["USER"]: Account(config["USER"], config["PASSWORD"]) for config in consoles}
    return ConsoleSchemaPlan(classification, base, console, tuple(readers.values()))


@dataclass(frozen=True)
class ConsoleDatabase:
    """A database the consoles read: its plan, who may apply it, the targets that read it."""

    plan: ConsoleSchemaPlan
    admin_url: str
    targets: tuple[str, ...]


def console_databases() -> list[ConsoleDatabase]:
    """Every MariaDB database that has console accounts configured, from the settings."""
    consoles = settings.PINSTABLR_CONSOLE_DATABASES
    groups = (
        (MAIN, PRIMARY, settings.DATABASE_ADMIN_URL, (REPORTING, EXPERIMENTS_READ)),
        (EXPERIMENTS_SCHEMA, EXPERIMENTS, settings.DATABASE_EXPERIMENTS_ADMIN_URL, (EXPERIMENTS,)),
    )
    found = []
    for schema, alias, admin_url, targets in groups:
        configured = tuple(target for target in targets if target in consoles)
        if not configured or not settings.DATABASES[alias]["ENGINE"].endswith("mysql"):
            continue
        plan = plan_for(
            classification=schema,
            base=settings.DATABASES[alias]["NAME"],
            consoles=[consoles[target] for target in configured],
        )
        found.append(ConsoleDatabase(plan, admin_url, configured))
    return found


def _connect(config: dict[str, Any], *, database: str = "") -> Any:
    """A MariaDB connection from Django-style settings (``HOST``, ``PORT``, ``USER``, ...)."""
    import MySQLdb

    return MySQLdb.connect(
        host=config.get("HOST") or "127.0.0.1",
        port=int(config.get("PORT") or 3306),
        user=config.get("USER") or "root",
        password=config.get("PASSWORD") or "",
        database=database,
        charset="utf8mb4",
        connect_timeout=config.get("OPTIONS", {}).get("connect_timeout", 5),
        autocommit=True,
    )


def admin_connection(url: str) -> Any:
    """A MariaDB connection as the administrator ``url`` names (no default database)."""
    return _connect(environ.Env.db_url_config(url))


def schema_sql(
    plan: ConsoleSchemaPlan,
    *,
    base_columns: dict[str, Sequence[str]],
    definer_columns: Iterable[tuple[str, str]] = (),
    existing_views: Iterable[str] = (),
) -> list[str]:
    """The statements that bring ``plan`` about, given what the server has now.

    ``base_columns``: every table of the base schema with its columns; ``definer_columns``:
    the (table, column) pairs the definer holds today; ``existing_views``: the views in the
    console schema today. Idempotent: run twice, the second run changes nothing.
    """
    base, console, definer = quote_name(plan.base), quote_name(plan.console), plan.definer
    views = {
        table: [column for column in columns if column in base_columns[table]]
        for table, columns in reportable_columns(plan.classification).items()
        if table in base_columns
    }
    views = {table: columns for table, columns in views.items() if columns}
    statements = [
        f"CREATE DATABASE IF NOT EXISTS {console} CHARACTER SET utf8mb4",
        f"CREATE USER IF NOT EXISTS {definer} ACCOUNT LOCK",
    ]
    granted = {(table, column) for table, columns in views.items() for column in columns}
    for table, column in sorted(set(definer_columns) - granted):
        statements.append(
            f"REVOKE SELECT ({quote_name(column)}) ON {base}.{quote_name(table)} FROM {definer}"  # noqa: S608 (quoted names)
        )
    for table in sorted(set(existing_views) - set(views)):
        statements.append(f"DROP VIEW IF EXISTS {console}.{quote_name(table)}")
    for table, columns in sorted(views.items()):
        names = ", ".join(quote_name(column) for column in columns)
        source = f"{base}.{quote_name(table)}"
        view = f"{console}.{quote_name(table)}"
        statements += [
            f"GRANT SELECT ({names}) ON {source} TO {definer}",
            f"CREATE OR REPLACE ALGORITHM=MERGE DEFINER={definer} SQL SECURITY DEFINER "  # noqa: S608
            f"VIEW {view} AS SELECT {names} FROM {source}",
        ]
    for reader in plan.readers:
        account = f"{quote_string(reader.user)}@'%'"
        password = quote_string(reader.password)
        statements += [
            f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {password}",
            f"ALTER USER {account} IDENTIFIED BY {password}",
            f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account}",
            f"GRANT SELECT ON {console}.* TO {account}",
        ]
    return statements


def _rows(cursor: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def server_state(cursor: Any, plan: ConsoleSchemaPlan) -> dict[str, Any]:
    """What :func:`schema_sql` needs to know of the server, read by the administrator."""
    base_columns: dict[str, list[str]] = {}
    for table, column in _rows(
        cursor,
        "SELECT c.TABLE_NAME, c.COLUMN_NAME FROM information_schema.COLUMNS c "
        "JOIN information_schema.TABLES t USING (TABLE_SCHEMA, TABLE_NAME) "
        "WHERE c.TABLE_SCHEMA = %s AND t.TABLE_TYPE = 'BASE TABLE' ORDER BY c.ORDINAL_POSITION",
        [plan.base],
    ):
        base_columns.setdefault(table, []).append(column)
    # mysql.columns_priv, not information_schema: an administrator without global privileges
    # sees only its own grants there.
    definer_columns = _rows(
        cursor,
        "SELECT Table_name, Column_name FROM mysql.columns_priv "
        "WHERE User = %s AND Host = 'localhost' AND Db = %s",
        [plan.definer_user, plan.base],
    )
    views = [
        name
        for (name,) in _rows(
            cursor,
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
            [plan.console],
        )
    ]
    return {
        "base_columns": base_columns,
        "definer_columns": definer_columns,
        "existing_views": views,
    }


def apply(connection: Any, plan: ConsoleSchemaPlan) -> list[str]:
    """Bring the server behind ``connection`` (an administrator's) to ``plan``; the SQL run."""
    cursor = connection.cursor()
    try:
        statements = schema_sql(plan, **server_state(cursor, plan))
        for statement in statements:
            cursor.execute(statement)
    finally:
        cursor.close()
    return statements


def console_access_problems(cursor: Any, plan_classification: str, console: str) -> list[str]:
    """Everything the console account behind ``cursor`` can do beyond the classification.

    Asked as the account itself, of what the server shows it (privileges, roles, every column
    of every table it can see), so a grant made by hand, a role or a widened view is found
    whatever statement created it. An empty list means the account reads reportable columns
    of the console schema and nothing else.
    """
    problems = [
        f"global privilege {privilege}"
        for (privilege,) in _rows(
            cursor, "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES"
        )
        if privilege != "USAGE"
    ]
    for schema, privilege in _rows(
        cursor, "SELECT TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES"
    ):
        if (schema, privilege) != (console, "SELECT"):
            problems.append(f"{privilege} on the schema {schema}")
    for schema, table, privilege in _rows(
        cursor,
        "SELECT TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES",
    ):
        problems.append(f"{privilege} on the table {schema}.{table}")
    for schema, table, column in _rows(
        cursor,
        "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMN_PRIVILEGES",
    ):
        problems.append(f"a grant on the column {schema}.{table}.{column}")
    problems += [
        f"the role {role}"
        for (role,) in _rows(cursor, "SELECT ROLE_NAME FROM information_schema.APPLICABLE_ROLES")
    ]
    for schema, table, column in _rows(
        cursor,
        "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA <> 'information_schema'",
    ):
        if schema != console:
            problems.append(f"reads {schema}.{table}.{column} outside the console schema")
        elif not is_reportable(plan_classification, table, column):
            problems.append(f"reads {table}.{column}, which is not reportable")
    return problems


def console_problems() -> list[tuple[str, str]]:
    """(target, problem) for every console account that can read more than it should; an
    empty list when every reachable MariaDB console is as classified (a server that is down
    shows as DOWN in ``manage.py topology``, and its console answers with an error)."""
    import MySQLdb

    problems = []
    for database in console_databases():
        for target in database.targets:
            config = settings.PINSTABLR_CONSOLE_DATABASES[target]
            try:
                connection = _connect(config, database=config["NAME"])
            except MySQLdb.OperationalError as error:
                if error.args and error.args[0] in ACCESS_DENIED_CODES:
                    problems.append((target, f"the console account cannot sign in: {error}"))
                continue
            try:
                with connection.cursor() as cursor:
                    found = console_access_problems(
                        cursor, database.plan.classification, config["NAME"]
                    )
                problems += [(target, problem) for problem in found]
            finally:
                connection.close()
    return problems
