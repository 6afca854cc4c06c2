"""The real MariaDB topology and a Pinstablr web server (gunicorn) running on it.

The suite starts its own primary, replicas and experiments server on ports 23306-23310 with
their data under var/test-topology, so it never disturbs a developer's topology, and stops
them at the end if it started them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import requests

from tests.services import free_port, missing

REPO = Path(__file__).resolve().parents[3]
BASE_DIR = REPO / "var" / "test-topology"
PORT_BASE = "23306"
APP_DATABASE = "pinstablr_it"
EXPERIMENTS_DATABASE = "pinstablr_experiments_it"
REPLICA_CHECK_SECONDS = 0.5


def load_topology() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "pinstablr_topology", REPO / "deploy" / "local" / "topology.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Topology:
    module: ModuleType
    env: dict[str, str]

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
    module = load_topology()
    was_running = module.server_pid("primary", base_dir=BASE_DIR) is not None
    try:
        info = module.up(base_dir=BASE_DIR)
    except Exception as error:  # the harness reports why the servers did not start
        missing(f"the MariaDB topology did not start: {error}")
    topology = Topology(module, env={})
    for server in ("primary",):
        topology.sql(server, f"DROP DATABASE IF EXISTS {APP_DATABASE}")
        topology.sql(server, f"CREATE DATABASE {APP_DATABASE} CHARACTER SET utf8mb4")
    topology.sql("experiments", f"DROP DATABASE IF EXISTS {EXPERIMENTS_DATABASE}")
    topology.sql("experiments", f"CREATE DATABASE {EXPERIMENTS_DATABASE} CHARACTER SET utf8mb4")
    topology.env = {
        name: info[name].rsplit("/", 1)[0]
        + "/"
        + (EXPERIMENTS_DATABASE if name == "DATABASE_EXPERIMENTS_URL" else APP_DATABASE)
        for name in (
            "DATABASE_URL",
            "DATABASE_REPLICA_URLS",
            "DATABASE_REPORTING_URL",
            "DATABASE_EXPERIMENTS_URL",
            "DATABASE_EXPERIMENTS_READ_URL",
        )
    }
    yield topology
    if not was_running:
        module.down(base_dir=BASE_DIR)


def app_environment(topology: Topology, var_dir: Path) -> dict[str, str]:
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "REDIS_", "PINSTABLR_"))
    }
    return {
        **inherited,
        **topology.env,
        "DJANGO_SETTINGS_MODULE": "pinstablr.settings.dev",
        "DJANGO_DEBUG": "0",
        "PINSTABLR_VAR_DIR": str(var_dir),
        "PINSTABLR_REPLICA_COOLDOWN_SECONDS": "2",
        "PINSTABLR_REPLICA_CHECK_SECONDS": str(REPLICA_CHECK_SECONDS),
        "CELERY_BROKER_URL": "memory://",
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@dataclass
class AppServer:
    url: str
    env: dict[str, str]
    tokens: dict[str, str]

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=15, **kwargs)


@pytest.fixture(scope="session")
def migrated(topology: Topology, tmp_path_factory) -> dict[str, str]:
    env = app_environment(topology, tmp_path_factory.mktemp("var"))
    manage(env, "migrate_all", "-v", "0")
    return env


@pytest.fixture(scope="session")
def app_server(topology: Topology, migrated: dict[str, str]) -> Iterator[AppServer]:
    """gunicorn with two workers: two stateless web servers sharing nothing but the databases."""
    env = migrated
    tokens_output = manage(
        env, "shell", "-c",
        "from rest_framework.authtoken.models import Token\n"
        "from apps.accounts.models import User\n"
        "for name in ('writer', 'ada'):\n"
        "    user, _ = User.objects.get_or_create(username=name)\n"
        "    print('TOKEN', name, Token.objects.get_or_create(user=user)[0].key)\n",
    )  # fmt: skip
    tokens = {
        line.split()[1]: line.split()[2]
        for line in tokens_output.splitlines()
        if line.startswith("TOKEN ")
    }
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "pinstablr.wsgi", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", "--log-level", "warning"],
        cwd=REPO, env=env, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url + "/healthz", timeout=2)
            break
        except requests.ConnectionError:
            assert server.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not come up"
            time.sleep(0.2)
    topology.wait_replica()
    yield AppServer(url=url, env=env, tokens=tokens)
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)
