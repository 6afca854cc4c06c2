"""Fixtures (loaded by tests/conftest.py for every test folder): the real MariaDB topology and a
Pinstablr web server (gunicorn) running on it.

The suite starts its own primary, replicas and experiments server on ports 23306-23310 with
their data under var/test-topology, so it never disturbs a developer's topology, and stops
them at the end if it started them.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
import requests

from deploy.local import topology as topology_module
from tests.processes import (
    app_environment,
    create_token,
    manage,
    start_gunicorn,
    stop,
)
from tests.services import missing

REPO = Path(__file__).resolve().parents[1]
BASE_DIR = REPO / "var" / "test-topology"
PORT_BASE = "23306"
APP_DATABASE = "pinstablr_it"
EXPERIMENTS_DATABASE = "pinstablr_experiments_it"
REPLICA_CHECK_SECONDS = 0.5
ADMIN_URLS = ("DATABASE_ADMIN_URL", "DATABASE_EXPERIMENTS_ADMIN_URL")


@dataclass
class Topology:
    module: ModuleType
    env: dict[str, str]
    admin_env: dict[str, str] = field(default_factory=dict)

    def sql(self, server: str, statement: str) -> list[tuple]:
        return self.module.sql(server, statement, base_dir=BASE_DIR)

    def kill(self, server: str) -> None:
        """SIGKILL ``server``: no shutdown, no flush, as when a machine dies."""
        os.kill(self.module.server_pid(server, base_dir=BASE_DIR), signal.SIGKILL)

    def start(self, server: str) -> None:
        self.module.start_server(server, base_dir=BASE_DIR)

    def com_select(self, server: str) -> int:
        """How many SELECT statements ``server`` has run since it started."""
        return int(self.sql(server, "SHOW GLOBAL STATUS LIKE 'Com_select'")[0][1])

    def selects(self) -> dict[str, int]:
        return {server: self.com_select(server) for server in ("primary", "replica")}

    def primary_position(self) -> str:
        return self.sql("primary", "SELECT @@global.gtid_binlog_pos")[0][0]

    def wait_replica(self, server: str = "replica", timeout: int = 20) -> None:
        """Block until ``server`` has applied everything the primary has written."""
        position = self.primary_position()
        result = self.sql(server, f"SELECT MASTER_GTID_WAIT('{position}', {timeout})")[0][0]
        assert str(result) == "0", f"{server} did not reach {position} in {timeout}s"

    def seconds_behind(self, server: str) -> str | None:
        status = self.module.slave_status(self.module.get_server(server, BASE_DIR)) or {}
        return status.get("Seconds_Behind_Master")

    def settle(self, server: str = "replica") -> None:
        """Wait until ``server`` has caught up and every web worker has re-read its state."""
        self.wait_replica(server)
        deadline = time.monotonic() + 20
        while self.seconds_behind(server) is None:
            assert time.monotonic() < deadline, f"{server} is not replicating"
            time.sleep(0.1)
        time.sleep(REPLICA_CHECK_SECONDS + 0.1)


@pytest.fixture(scope="session")
def topology() -> Iterator[Topology]:
    if shutil.which("mariadbd") is None and not Path("/usr/sbin/mariadbd").exists():
        missing("MariaDB server binaries are not installed (Debian package mariadb-server)")
    os.environ["PINSTABLR_TOPOLOGY_PORT_BASE"] = PORT_BASE
    module = topology_module
    was_running = module.server_pid("primary", base_dir=BASE_DIR) is not None
    try:
        info = module.up(base_dir=BASE_DIR)
    except Exception as error:  # the harness reports why the servers did not start
        missing(f"the MariaDB topology did not start: {error}")
    topology = Topology(module, env={})
    for server in ("primary",):
        topology.sql(server, f"DROP DATABASE IF EXISTS {APP_DATABASE}")
        topology.sql(server, f"CREATE DATABASE {APP_DATABASE} CHARACTER SET utf8mb4")
    topology.sql("primary", f"DROP DATABASE IF EXISTS {APP_DATABASE}_console")
    topology.sql("experiments", f"DROP DATABASE IF EXISTS {EXPERIMENTS_DATABASE}")
    topology.sql("experiments", f"DROP DATABASE IF EXISTS {EXPERIMENTS_DATABASE}_console")
    topology.sql("experiments", f"CREATE DATABASE {EXPERIMENTS_DATABASE} CHARACTER SET utf8mb4")
    databases = {"DATABASE_EXPERIMENTS_URL": EXPERIMENTS_DATABASE}
    databases |= dict.fromkeys(
        ("DATABASE_URL", "DATABASE_REPLICA_URLS", "DATABASE_REPORTING_URL",
         "DATABASE_EXPERIMENTS_READ_URL"),
        APP_DATABASE,
    )  # fmt: skip
    databases |= {
        "PINSTABLR_CONSOLE_REPORTING_URL": APP_DATABASE + "_console",
        "PINSTABLR_CONSOLE_EXPERIMENTS_READ_URL": APP_DATABASE + "_console",
        "PINSTABLR_CONSOLE_EXPERIMENTS_URL": EXPERIMENTS_DATABASE + "_console",
    }
    topology.env = {
        name: info[name].rsplit("/", 1)[0] + "/" + database for name, database in databases.items()
    }
    # Only the migration step builds the consoles' views, as an administrator.
    topology.admin_env = {name: info[name] for name in ADMIN_URLS}
    yield topology
    if not was_running:
        module.down(base_dir=BASE_DIR)


def topology_environment(topology: Topology, var_dir: Path) -> dict[str, str]:
    return app_environment(
        var_dir,
        **topology.env,
        PINSTABLR_REPLICA_COOLDOWN_SECONDS="2",
        PINSTABLR_REPLICA_CHECK_SECONDS=str(REPLICA_CHECK_SECONDS),
        CELERY_BROKER_URL="memory://",
    )


@dataclass
class AppServer:
    url: str
    env: dict[str, str]
    tokens: dict[str, str]

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=15, **kwargs)


@pytest.fixture(scope="session")
def migrated(topology: Topology, tmp_path_factory) -> dict[str, str]:
    env = topology_environment(topology, tmp_path_factory.mktemp("var"))
    manage({**env, **topology.admin_env}, "migrate_all", "-v", "0")
    return env


@pytest.fixture(scope="session")
def app_server(topology: Topology, migrated: dict[str, str]) -> Iterator[AppServer]:
    """gunicorn with two workers: two stateless web servers sharing nothing but the databases."""
    tokens = {name: create_token(migrated, name) for name in ("writer", "ada")}
    server, url = start_gunicorn(migrated, workers=2)
    topology.wait_replica()
    yield AppServer(url=url, env=migrated, tokens=tokens)
    stop(server)
