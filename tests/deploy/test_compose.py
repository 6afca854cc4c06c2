"""deploy/compose.yaml, checked without a Docker engine.

The file is parsed by the Compose Specification model of the PyPI package compose-spec
(typed, unknown keys rejected) after the same ${VAR:-default} interpolation and merge keys
that docker compose applies, then checked for what the spec does not check: every reference
resolves, every service is healthy-checked, the app gets the whole settings contract, and
the passwords in the example env files agree. The MariaDB init scripts run for real against
throwaway MariaDB servers started by deploy/local/topology.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from deploy.local import topology
from pinstablr.db.classification import MAIN
from pinstablr.db.console_schema import apply, console_access_problems, plan_for
from pinstablr.settings.required import REQUIRED_VARIABLES, S3_VARIABLES
from tests.deploy.tools import DEPLOY, REPO
from tests.services import missing

COMPOSE_FILE = DEPLOY / "compose.yaml"
APP_IMAGE = "pinstablr:"
ONE_SHOT = {"migrate"}
DATABASE_VARIABLES = [name for name in REQUIRED_VARIABLES if name.startswith("DATABASE_")]


def interpolate(text: str, env: dict[str, str]) -> str:
    """docker compose's interpolation: ${VAR}, ${VAR:-default}, and $$ for a literal $."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1)) or match.group(3) or ""

    return re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", substitute, text)


def load(text: str) -> dict[str, Any]:
    return yaml.safe_load(interpolate(text, {"PINSTABLR_VERSION": "1.2.3"}))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict[str, Any]]:
    return compose["services"]


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def service_environment(service: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for name in service.get("env_file", []):
        env.update(read_env_file(DEPLOY / name))
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    env.update({k: str(v) for k, v in environment.items()})
    return env


def app_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in services.items() if str(s.get("image", "")).startswith(APP_IMAGE)}


# --- the Compose Specification ----------------------------------------------------------


class NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def spec_check(compose: dict[str, Any]) -> None:
    """Parse with compose-spec's typed model; raises ValueError on anything invalid."""
    try:
        from compose_spec import PyCompose
    except ImportError:
        missing("compose-spec (PyPI) is not installed")
    # Merge keys and anchors are resolved by PyYAML already, as docker compose does.
    PyCompose.from_yaml(yaml.dump(compose, Dumper=NoAliases, sort_keys=False)).validate()


def test_compose_file_follows_the_compose_specification(compose):
    spec_check(compose)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('test: ["CMD", "redis-cli", "ping"]', 'tset: ["CMD", "redis-cli", "ping"]'),
        ("replicas: 3", "replicas: three"),
        ("condition: service_completed_successfully", "condition: service_finished"),
    ],
    ids=["misspelled-key", "wrong-type", "unknown-condition"],
)
def test_the_specification_check_catches_mistakes(old, new):
    text = COMPOSE_FILE.read_text()
    assert old in text
    with pytest.raises(ValueError, match=r"."):  # the model's message names the field
        spec_check(load(text.replace(old, new, 1)))


# --- topology ---------------------------------------------------------------------------


def test_whole_topology_is_there(services):
    expected = {
        "nginx", "web", "worker-images", "worker-reports", "beat", "migrate",
        "mariadb-primary", "mariadb-replica", "mariadb-reporting", "mariadb-experiments-read",
        "mariadb-experiments", "redis", "rabbitmq", "seaweedfs",
    }  # fmt: skip
    assert set(services) == expected
    assert services["web"]["deploy"]["replicas"] == 3
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert services["seaweedfs"]["image"].startswith("chrislusf/seaweedfs:")


def test_every_service_has_an_image_and_a_tag(services):
    for name, service in services.items():
        image = service.get("image")
        assert image or service.get("build"), name
        assert image, name
        assert ":" in image, f"{name}: {image} has no tag"
        assert not image.endswith(":latest"), name


def test_app_services_share_one_image_built_from_the_dockerfile(services):
    apps = app_services(services)
    assert set(apps) == {"web", "worker-images", "worker-reports", "beat", "migrate"}
    for name, service in apps.items():
        assert service["image"] == "pinstablr:1.2.3", name
        build = service["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (
            REPO / "deploy" / "docker" / "Dockerfile"
        )
        assert build["args"]["PINSTABLR_VERSION"] == "1.2.3"
    roles = {name: service["command"] for name, service in apps.items()}
    assert roles == {
        "web": ["web"], "worker-images": ["worker-images"], "worker-reports": ["worker-reports"],
        "beat": ["beat"], "migrate": ["migrate"],
    }  # fmt: skip


def test_every_long_running_service_has_a_healthcheck(services):
    for name, service in services.items():
        healthcheck = service.get("healthcheck", {})
        if name in ONE_SHOT:
            assert healthcheck == {"disable": True}
            assert service["restart"] == "no"
            continue
        test = healthcheck.get("test")
        assert test, name
        assert test[0] in ("CMD", "CMD-SHELL"), name
        assert not healthcheck.get("disable"), name


def test_dependencies_exist_and_wait_for_health_or_completion(services):
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for dependency, spec in depends_on.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            wanted = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert spec["condition"] == wanted, f"{name} -> {dependency}"


def test_dependencies_have_no_cycle(services):
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name not in done:
            for dependency in services[name].get("depends_on", {}):
                visit(dependency, (*path, name))
            done.add(name)

    for name in services:
        visit(name, ())


def test_app_waits_for_migrations_and_every_backing_service(services):
    backing = {
        "mariadb-primary", "mariadb-replica", "mariadb-reporting", "mariadb-experiments-read",
        "mariadb-experiments", "redis", "rabbitmq", "seaweedfs", "migrate",
    }  # fmt: skip
    for name in ("web", "worker-images", "worker-reports", "beat"):
        assert set(services[name]["depends_on"]) == backing, name
    assert set(services["migrate"]["depends_on"]) == {"mariadb-primary", "mariadb-experiments"}
    assert set(services["nginx"]["depends_on"]) == {"web"}


def test_replicas_follow_the_primary(services):
    for name in ("mariadb-replica", "mariadb-reporting", "mariadb-experiments-read"):
        service = services[name]
        assert service["environment"]["PINSTABLR_PRIMARY_HOST"] == "mariadb-primary"
        assert "--read-only=ON" in service["command"]
        assert "--replication" in service["healthcheck"]["test"]
    flags = services["mariadb-primary"]["command"]
    assert flags[0].startswith("--log-basename=")
    assert any(flag.startswith("--log-bin") for flag in flags)
    ids = [
        next(f for f in services[n]["command"] if f.startswith("--server-id="))
        for n in services
        if n.startswith("mariadb-")
    ]
    assert len(ids) == len(set(ids)) == 5


def test_mounted_files_and_named_volumes_exist(compose, services):
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source}"
            else:
                assert source in compose["volumes"], f"{name}: {source}"
        for env_file in service.get("env_file", []):
            assert (DEPLOY / env_file).is_file(), f"{name}: {env_file}"


def test_only_the_load_balancer_and_the_s3_endpoint_are_published_on_loopback(services):
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert published == {"nginx": ["127.0.0.1:8080:80"], "seaweedfs": ["127.0.0.1:8333:8333"]}


def test_app_containers_are_locked_down(services):
    for name, service in app_services(services).items():
        assert service["read_only"] is True, name
        assert service["tmpfs"] == ["/tmp"], name
        assert service["cap_drop"] == ["ALL"], name


# --- the settings contract and the example secrets --------------------------------------


def test_app_services_get_the_whole_production_contract(services):
    for name, service in app_services(services).items():
        env = service_environment(service)
        assert env["DJANGO_SETTINGS_MODULE"] == "pinstablr.settings.production", name
        assert env["PINSTABLR_MEDIA_STORAGE"] == "s3", name
        for variable in [*REQUIRED_VARIABLES, *S3_VARIABLES]:
            assert env.get(variable, "").strip(), f"{name} lacks {variable}"


def test_production_settings_load_with_the_compose_environment(services):
    env = service_environment(services["web"])
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env={**keep, **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


def test_urls_name_compose_services_and_carry_the_example_passwords(services):
    app = service_environment(services["web"])
    mariadb = read_env_file(DEPLOY / "docker" / "env" / "mariadb.local.env")
    rabbitmq = read_env_file(DEPLOY / "docker" / "env" / "rabbitmq.local.env")
    passwords = {
        "pinstablr": mariadb["PINSTABLR_DB_PASSWORD"],
        "pinstablr_ro": mariadb["PINSTABLR_DB_RO_PASSWORD"],
    }
    expected_hosts = {
        "DATABASE_URL": "mariadb-primary",
        "DATABASE_REPLICA_URLS": "mariadb-replica",
        "DATABASE_REPORTING_URL": "mariadb-reporting",
        "DATABASE_EXPERIMENTS_URL": "mariadb-experiments",
        "DATABASE_EXPERIMENTS_READ_URL": "mariadb-experiments-read",
    }
    assert set(expected_hosts) == set(DATABASE_VARIABLES)
    for variable, host in expected_hosts.items():
        for url in app[variable].split(","):
            parts = urlsplit(url)
            assert (parts.scheme, parts.hostname, parts.port) == ("mysql", host, 3306), variable
            assert parts.password == passwords[parts.username or ""], variable
    # Replicas are read with the read-only account.
    for variable in ("DATABASE_REPLICA_URLS", "DATABASE_REPORTING_URL"):
        assert urlsplit(app[variable]).username == "pinstablr_ro"
    assert urlsplit(app["DATABASE_EXPERIMENTS_READ_URL"]).username == "pinstablr_ro"
    broker = urlsplit(app["CELERY_BROKER_URL"])
    assert (broker.hostname, broker.username) == ("rabbitmq", rabbitmq["RABBITMQ_DEFAULT_USER"])
    assert broker.password == rabbitmq["RABBITMQ_DEFAULT_PASS"]
    assert urlsplit(app["REDIS_URL"]).hostname == "redis"
    assert urlsplit(app["AWS_S3_ENDPOINT_URL"]).hostname == "seaweedfs"
    # SeaweedFS makes its identity from the same key pair the app signs with.
    assert set(read_env_file(DEPLOY / "docker" / "env" / "s3.local.env")) == {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    }  # fmt: skip
    assert "docker/env/s3.local.env" in services["seaweedfs"]["env_file"]
    assert f"-bucket={app['AWS_STORAGE_BUCKET_NAME']}" in services["seaweedfs"]["command"]


def test_example_secrets_say_they_are_for_local_use_only():
    for path in (DEPLOY / "docker" / "env").glob("*.env"):
        assert path.name.endswith(".local.env"), path
        assert "LOCAL USE ONLY" in path.read_text(), path
        for name, value in read_env_file(path).items():
            if "PASSWORD" in name or "SECRET" in name:
                assert value.startswith("local-only-"), f"{path.name}: {name}"


# --- the MariaDB init scripts, on real servers ------------------------------------------

# The image's escape function (docker-entrypoint.sh), which the scripts call.
ESCAPE_FUNCTION = r"""docker_sql_escape_string_literal() {
	local newline=$'\n'
	local escaped=${1//\\/\\\\}
	escaped="${escaped//$newline/\\n}"
	echo "${escaped//\'/\\\'}"
}
"""


def free_port_base(count: int) -> int:
    import socket

    for base in range(41000, 60000, 97):
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free port range")


def source_init_script(
    topology: ModuleType, server: Any, script: Path, env: dict[str, str]
) -> None:
    """Source ``script`` as the image's entrypoint does, its SQL going to ``server``."""
    program = (
        ESCAPE_FUNCTION
        + f'docker_process_sql() {{ {topology.CLIENT} {server.defaults_arg()} "$@"; }}\n'
        + f"set -eo pipefail\n. {script}\n"
    )
    result = subprocess.run(
        ["bash", "-c", program], env={**os.environ, **env}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, f"{script.name}: {result.stderr}"


@pytest.mark.mysql
def test_mariadb_init_scripts_set_up_accounts_and_gtid_replication(tmp_path, monkeypatch):
    if not all(os.access(p, os.X_OK) for p in (topology.MARIADBD, topology.INSTALL_DB)):
        missing("MariaDB server binaries are not installed (Debian package mariadb-server)")
    monkeypatch.setenv(topology.ENV_PORT_BASE, str(free_port_base(len(topology.SERVERS))))
    base = tmp_path / "db"
    names = ("primary", "replica", "experiments")
    passwords = {
        "PINSTABLR_DB_PASSWORD": "app 'quoted' \\ pass",
        "PINSTABLR_DB_RO_PASSWORD": "read-only-pass",
        "PINSTABLR_REPL_PASSWORD": "repl-pass",
        "PINSTABLR_DB_ADMIN_PASSWORD": "admin 'pass'",
    }
    try:
        for name in names:
            topology.start_server(name, base_dir=base)
        server = {name: topology.get_server(name, base) for name in names}
        scripts = DEPLOY / "docker" / "mariadb"
        source_init_script(
            topology, server["primary"], scripts / "primary" / "10-accounts.sh", passwords
        )
        source_init_script(
            topology, server["experiments"], scripts / "experiments" / "10-accounts.sh", passwords
        )
        source_init_script(
            topology, server["replica"], scripts / "replica" / "10-replicate.sh",
            {**passwords, "PINSTABLR_PRIMARY_HOST": "127.0.0.1",
             "PINSTABLR_PRIMARY_PORT": str(server["primary"].port)},
        )  # fmt: skip
        check_accounts_and_replication(topology, base, server, passwords)
    finally:
        for name in reversed(names):
            topology.stop_server(name, base_dir=base)


def check_accounts_and_replication(
    topology: ModuleType, base: Path, server: dict[str, Any], passwords: dict[str, str]
) -> None:
    import MySQLdb

    def connect(name: str, user: str, password: str, database: str) -> Any:
        return MySQLdb.connect(
            host="127.0.0.1", port=server[name].port, user=user, password=password,
            database=database, connect_timeout=5, autocommit=True,
        )  # fmt: skip

    app_password = passwords["PINSTABLR_DB_PASSWORD"]
    ro_password = passwords["PINSTABLR_DB_RO_PASSWORD"]
    with connect("primary", "pinstablr", app_password, "pinstablr") as primary:
        cursor = primary.cursor()
        cursor.execute("CREATE TABLE marker (id INT PRIMARY KEY)")
        cursor.execute("INSERT INTO marker VALUES (1)")
        cursor.execute(
            "CREATE TABLE accounts_user (id INT PRIMARY KEY, password VARCHAR(128), "
            "email VARCHAR(254), date_joined DATETIME)"
        )
        cursor.execute("INSERT INTO accounts_user VALUES (1, 'hash', 'a@b.example', NOW())")
    # The administrator account can build the console's schema of views, and no more.
    plan = plan_for(
        classification=MAIN, base="pinstablr",
        consoles=[{"NAME": "pinstablr_console", "USER": "pinstablr_console", "PASSWORD": "c"}],
    )  # fmt: skip
    admin_password = passwords["PINSTABLR_DB_ADMIN_PASSWORD"]
    with connect("primary", "pinstablr_admin", admin_password, "pinstablr") as admin:
        apply(admin, plan)
        with pytest.raises(MySQLdb.DatabaseError):
            admin.cursor().execute("CREATE TABLE pinstablr.nope (id INT PRIMARY KEY)")
    with connect("primary", "pinstablr", app_password, "pinstablr") as primary:
        cursor = primary.cursor()
        cursor.execute("SELECT @@GLOBAL.gtid_binlog_pos")
        position = cursor.fetchone()[0]
    # The accounts themselves arrive by replication: wait as root for the whole log.
    waited = topology.sql("replica", f"SELECT MASTER_GTID_WAIT('{position}', 20)", base_dir=base)
    assert waited == [("0",)], "the replica did not reach the primary's position"
    with connect("replica", "pinstablr_ro", ro_password, "pinstablr") as replica:
        cursor = replica.cursor()
        cursor.execute("SELECT id FROM marker")
        assert cursor.fetchall() == ((1,),)
        # SLAVE MONITOR: the app reads the replica's lag with the read-only account.
        cursor.execute("SHOW SLAVE STATUS")
        columns = [column[0] for column in cursor.description]
        status = dict(zip(columns, cursor.fetchone(), strict=True))
        assert status["Using_Gtid"] == "Slave_Pos"
        assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("Yes", "Yes")
        with pytest.raises(MySQLdb.DatabaseError):  # read-only account, read_only server
            cursor.execute("INSERT INTO marker VALUES (2)")
    # The console account and its views arrived by replication; it reads reportable columns.
    with connect("replica", "pinstablr_console", "c", "pinstablr_console") as console:
        cursor = console.cursor()
        cursor.execute("SELECT * FROM accounts_user")
        assert [column[0] for column in cursor.description] == ["id", "date_joined"]
        assert console_access_problems(cursor, MAIN, "pinstablr_console") == []
        with pytest.raises(MySQLdb.DatabaseError):
            cursor.execute("SELECT id FROM pinstablr.accounts_user")
    with connect("experiments", "pinstablr", app_password, "pinstablr_experiments") as experiments:
        experiments.cursor().execute("CREATE TABLE variant (id INT PRIMARY KEY)")
