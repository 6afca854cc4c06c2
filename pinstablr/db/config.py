"""Build the five-role ``DATABASES`` mapping from database URLs.

Settings modules read the environment and pass plain values here, so this module never
touches ``os.environ`` and can be tested with any combination of URLs.

Aliases:
    default            the primary; every write except the experiments app's
    replica_1..N       asynchronous replicas of the primary, for ordinary reads
    reporting          a replica isolated for marketing's reports
    experiments        the UX team's own read-write database
    experiments_read   a replica of the primary for UX analysis
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ

PRIMARY = "default"
REPORTING = "reporting"
EXPERIMENTS = "experiments"
EXPERIMENTS_READ = "experiments_read"
REPLICA_PREFIX = "replica_"

# A dead replica must cost a short wait, not a hung request.
PRIMARY_CONNECT_TIMEOUT_SECONDS = 5
REPLICA_CONNECT_TIMEOUT_SECONDS = 2


def replica_alias(index: int) -> str:
    """Alias of the index-th replica, counting from 1."""
    return f"{REPLICA_PREFIX}{index}"


def sqlite_read_only_url(primary_path: Path) -> str:
    """A URI that opens the primary's SQLite file read-only (the embedded 'replica')."""
    return f"file:{primary_path}?mode=ro"


def _config(url: str, *, read_only: bool) -> dict[str, Any]:
    if url.startswith("file:"):
        # Django's SQLite backend always opens its NAME as a URI, so mode=ro is honoured.
        config: dict[str, Any] = {"ENGINE": "django.db.backends.sqlite3", "NAME": url}
    else:
        config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.mysql":
        options = config.setdefault("OPTIONS", {})
        options.setdefault("charset", "utf8mb4")
        options.setdefault("isolation_level", "read committed")
        # A server that does not answer must not hold a request (or /readyz) for long.
        options.setdefault(
            "connect_timeout",
            REPLICA_CONNECT_TIMEOUT_SECONDS if read_only else PRIMARY_CONNECT_TIMEOUT_SECONDS,
        )
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        # Several processes (web, worker) share the file: wait for a lock instead of failing.
        options = config.setdefault("OPTIONS", {})
        options.setdefault("timeout", 20)
        if not read_only:
            # A transaction that reads then writes (a row lock, then an insert) must take the
            # write lock when it begins: SQLite cannot wait to upgrade a read lock, and fails
            # at once with "database is locked" if another writer got there first.
            options.setdefault("transaction_mode", "IMMEDIATE")
    config.setdefault("CONN_MAX_AGE", 0)
    config["CONN_HEALTH_CHECKS"] = True
    config["ATOMIC_REQUESTS"] = False
    return config


def build_databases(
    *,
    primary_url: str,
    replica_urls: list[str],
    reporting_url: str,
    experiments_url: str,
    experiments_read_url: str,
    conn_max_age: int = 0,
) -> dict[str, dict[str, Any]]:
    """Return Django's ``DATABASES`` for the whole topology.

    Read-only aliases are test mirrors of the primary, so a test run creates one test
    database for the primary and one for experiments, and the replicas read the former.
    """
    databases: dict[str, dict[str, Any]] = {PRIMARY: _config(primary_url, read_only=False)}
    read_only = {replica_alias(i): url for i, url in enumerate(replica_urls, start=1)}
    read_only[REPORTING] = reporting_url
    read_only[EXPERIMENTS_READ] = experiments_read_url
    for alias, url in read_only.items():
        databases[alias] = _config(url, read_only=True)
        databases[alias]["TEST"] = {"MIRROR": PRIMARY}
    databases[EXPERIMENTS] = _config(experiments_url, read_only=False)
    for config in databases.values():
        config["CONN_MAX_AGE"] = conn_max_age
    return databases


def replica_aliases(databases: dict[str, Any]) -> list[str]:
    """The replica aliases in ``databases``, in order."""
    return [alias for alias in databases if alias.startswith(REPLICA_PREFIX)]


def read_only_aliases(databases: dict[str, Any]) -> list[str]:
    """Every alias that must never be written or migrated."""
    return [*replica_aliases(databases), REPORTING, EXPERIMENTS_READ]


def build_console_databases(urls: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Connection settings of the query consoles' accounts, by target (``reporting``, ...).

    Each URL names a console account and its schema of views (``pinstablr/db/
    console_schema.py``), never the base schema; targets without a URL are left out. The
    consoles connect per run and keep nothing between requests.
    """
    consoles = {target: _config(url, read_only=True) for target, url in urls.items() if url}
    for config in consoles.values():
        config["CONN_MAX_AGE"] = 0
    return consoles
