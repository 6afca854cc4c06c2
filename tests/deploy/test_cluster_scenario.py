"""The cluster of ``make cluster`` (deploy/local/cluster.py), for real, on loopback.

Its own state directory and ports (var/test-cluster/<port base>, 27000 and up, the base held
with a lock so concurrent test runs never share a cluster), so it never meets a developer's
cluster either; the CLI runs as a separate process, as ``make cluster`` runs it, and the
fixture's finalizer runs ``down --purge`` whatever happened, keeping the logs in
test-artifacts/cluster/.

The tests run in file order and share one cluster: a failed ``up`` first (it must stop what
it started), then the cluster comes up, serves the load scenario while a web server and an
image worker are killed, shows readiness following the primary, and is taken down.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import requests

from bench import cluster_scenario
from deploy.local import cluster as cluster_module
from tests.processes import REPO
from tests.services import missing

pytestmark = [
    pytest.mark.slow,
    pytest.mark.mysql,
    pytest.mark.redis,
    pytest.mark.rabbitmq,
    pytest.mark.s3,
    pytest.mark.timeout(600),
]

TEST_CLUSTERS = REPO / "var" / "test-cluster"
# Port bases for test clusters, one per concurrent test run on this machine (each run holds a
# lock on its base). Clear of the suite's other servers (MariaDB 23306+, SeaweedFS 18333+ and
# 28333+, the HTTP benchmark's 24306+) and of a developer's cluster (26000).
PORT_BASES = (27000, 29000, 31000, 33000)
ARTIFACTS = REPO / "test-artifacts" / "cluster"


def cli(layout, *args: str) -> subprocess.CompletedProcess[str]:
    """``deploy/local/cluster.py`` for the test cluster, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "deploy.local.cluster", "--state-dir", str(layout.state_dir),
         "--port-base", str(layout.port_base), *args],
        cwd=REPO, capture_output=True, text=True, timeout=400,
    )  # fmt: skip


def output(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr)[-4000:]


@pytest.fixture(scope="module")
def cluster() -> ModuleType:
    """deploy/local/cluster.py as a module, or skip when a server program is missing."""
    module = cluster_module
    try:
        module.require_programs()
    except (module.ClusterError, module.topology.TopologyError) as error:
        missing(str(error))
    return module


@pytest.fixture(scope="module")
def layout(cluster: ModuleType) -> Iterator[object]:
    """A state directory and port base no other test run on this machine is using."""
    TEST_CLUSTERS.mkdir(parents=True, exist_ok=True)
    for base in PORT_BASES:
        with open(TEST_CLUSTERS / f"{base}.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # another run's cluster
            claimed = cluster.layout(TEST_CLUSTERS / str(base), base)
            cli(claimed, "down", "--purge")  # whatever a run that died left behind
            yield claimed
            return
    missing(f"every test cluster port base ({PORT_BASES}) is in use by other test runs")


@pytest.fixture(scope="module")
def running(cluster: ModuleType, layout) -> Iterator[None]:
    """The whole cluster up; taken down (and its state deleted) at the end, whatever happens."""
    try:
        result = cli(layout, "up")
        assert result.returncode == 0, output(result)
        yield
    finally:
        result = cli(layout, "down")
        # The logs outlive the cluster, for whoever reads a failure.
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        if (layout.state_dir / "log").exists():
            shutil.copytree(layout.state_dir / "log", ARTIFACTS)
        purged = cli(layout, "down", "--purge")
        assert result.returncode == purged.returncode == 0, output(result) + output(purged)


def listening_addresses(ports: set[int]) -> dict[int, str]:
    """Local address of every listening TCP socket on one of ``ports`` (from /proc/net)."""
    found: dict[int, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port = local.split(":")
            if state == "0A" and int(port, 16) in ports:  # 0A: LISTEN
                found[int(port, 16)] = address
    return found


def cluster_ports(layout) -> set[int]:
    base = layout.port_base
    return {*range(base, base + 700), *range(base + 10333, base + 10338)}


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1 in /proc/net


# --- up, partial failure -------------------------------------------------------------------


def test_an_up_that_fails_part_way_stops_everything_it_started(cluster, layout):
    cli(layout, "down")
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", layout.rabbitmq_port))
    blocker.listen()
    try:
        result = cli(layout, "up")
    finally:
        blocker.close()
    assert result.returncode == 1
    assert f"rabbitmq: port {layout.rabbitmq_port}" in result.stderr
    # The topology, SeaweedFS, Redis and epmd had been started before RabbitMQ's turn.
    assert "redis, epmd up" in result.stdout
    assert "up failed: stopping everything" in result.stdout
    assert cluster.leftovers(layout) == []
    assert not any(row["alive"] for row in cluster.status(layout))
    assert listening_addresses(cluster_ports(layout)) == {}


# --- a running cluster ---------------------------------------------------------------------


def test_status_shows_every_process_alive_on_loopback(cluster, layout, running):
    result = cli(layout, "status", "--json")
    assert result.returncode == 0, output(result)
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {
        "primary", "replica", "reporting", "experiments_read", "experiments", "s3", "redis",
        "epmd", "rabbitmq", "web-1", "web-2", "web-3", "nginx", "images-1", "images-2",
        "reports", "beat",
    }  # fmt: skip
    assert all(row["alive"] and row["pid"] for row in rows.values())
    assert rows["nginx"]["port"] == layout.nginx_port
    listening = listening_addresses(cluster_ports(layout))
    expected = {layout.nginx_port, layout.web_port("web-1"), layout.topology_port_base,
                layout.s3_port, layout.redis_port, layout.rabbitmq_port}  # fmt: skip
    assert expected <= set(listening)
    assert set(listening.values()) <= LOOPBACK, listening

    ready = requests.get(f"{layout.url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"
    assert requests.get(f"{layout.url}/", timeout=10).status_code == 200


def test_up_again_starts_nothing(cluster, layout, running):
    before = {row["name"]: row["pid"] for row in cluster.status(layout)}
    result = cli(layout, "up")
    assert result.returncode == 0, output(result)
    assert "started: nothing, all was running" in result.stdout
    assert {row["name"]: row["pid"] for row in cluster.status(layout)} == before


def test_load_while_a_web_server_and_an_image_worker_are_killed(cluster, layout, running):
    scenario = cluster_scenario
    result = scenario.Scenario(cluster, layout, scenario.Config()).run()
    print(scenario.format_result(result))

    # The load really ran, and the two kills really happened.
    assert result.requests >= 300
    assert result.likes >= 20
    assert result.web_restarted_pid not in (None, result.web_killed_pid)
    assert result.worker_killed_task, "images-1 was never caught with a photo in flight"
    assert result.worker_restarted_pid not in (None, result.worker_killed_pid)
    # The task it was killed in was delivered again and finished (acknowledged late).
    assert result.worker_killed_task_finished_by is not None

    # Idempotent requests never fail: nginx passes them to the surviving web servers. Only
    # an answer the killed server was writing at that instant can be cut off (nginx cannot
    # take back what the client has started to receive): at most one per gunicorn worker,
    # and the client's repeat of it succeeds.
    assert result.idempotent_failures == 0, result.idempotent_failure_detail
    assert result.cut_off <= cluster.GUNICORN_WORKERS, result.cut_off_detail
    # Every upload was acknowledged in the end (failed attempts are retried with the same
    # bytes, which the service recognises), and each is exactly one ready photo with one set
    # of renditions whose files are in the bucket.
    assert result.uploads_unacknowledged == 0
    assert result.uploads_acknowledged == scenario.Config().uploads
    assert result.seconds_to_queue_drained is not None, "the images queue did not drain"
    assert result.acknowledged_not_ready == []
    assert result.wrong_renditions == []
    assert result.duplicate_photos == []
    assert result.photos_of_users == result.ready_photos == result.uploads_acknowledged
    assert result.missing_objects == 0


def readiness(url: str) -> tuple[int, float]:
    began = time.monotonic()
    response = requests.get(f"{url}/readyz", timeout=10)
    return response.status_code, time.monotonic() - began


def test_readyz_turns_503_while_the_primary_is_stopped(cluster, layout, running):
    assert readiness(layout.url)[0] == 200
    # Which check failed, and why, is shown only with the metrics token.
    token = cluster.cluster_secrets(layout)["metrics_token"]
    stopped = cli(layout, "stop", "primary")
    try:
        assert stopped.returncode == 0, output(stopped)
        answers = [readiness(layout.url) for _ in range(5)]
        assert [status for status, _ in answers] == [503] * 5
        assert max(seconds for _, seconds in answers) < 3, "readiness must answer quickly"
        public = requests.get(f"{layout.url}/readyz", timeout=10).json()
        assert public == {"status": "unavailable"}
        body = requests.get(
            f"{layout.url}/readyz", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()
        assert body["status"] == "unavailable"
        assert body["checks"]["primary"]["ok"] is False
    finally:
        started = cli(layout, "start", "primary")
    assert started.returncode == 0, output(started)
    deadline = time.monotonic() + 60
    while (status := readiness(layout.url)[0]) != 200:
        assert time.monotonic() < deadline, f"readyz still {status} a minute after the restart"
        time.sleep(0.5)


# --- down ----------------------------------------------------------------------------------


def test_down_stops_every_process_it_started(cluster, layout, running):
    pids = [row["pid"] for row in cluster.status(layout) if row["pid"]]
    assert len(pids) == 17
    result = cli(layout, "down")
    assert result.returncode == 0, output(result)
    assert [pid for pid in pids if cluster.processes.alive(pid)] == []
    assert cluster.leftovers(layout) == []
    assert listening_addresses(cluster_ports(layout)) == {}
