"""Read routing on the real topology: a MariaDB primary, a GTID replica, two web servers.

Queries are counted where they run: each server's own ``Com_select`` counter.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests
from django.apps import apps

from tests.processes import manage
from tests.topology import (
    APP_DATABASE,
    EXPERIMENTS_DATABASE,
    REPLICA_CHECK_SECONDS,
    AppServer,
    Topology,
)
from tests.waiting import wait_until

pytestmark = [pytest.mark.mysql, pytest.mark.slow]


class Writer:
    """A signed-in API client that keeps its cookies, as a browser or the JS client does."""

    def __init__(self, server: AppServer, username: str = "writer") -> None:
        self.server = server
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {server.tokens[username]}"

    def write_bio(self, bio: str) -> None:
        response = self.session.patch(
            self.server.url + "/api/v1/me/", json={"bio": bio}, timeout=15
        )
        assert response.status_code == 200, response.text

    def read_bio(self) -> str:
        response = self.session.get(self.server.url + "/api/v1/me/", timeout=15)
        assert response.status_code == 200, response.text
        return response.json()["bio"]


def tables(topology: Topology, server: str, database: str) -> set[str]:
    rows = topology.sql(
        server,
        f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{database}'",
    )
    return {row[0] for row in rows}


def test_migrations_put_experiments_tables_only_in_experiments_and_nothing_on_replicas(
    topology, migrated
):
    topology.wait_replica("replica")
    topology.wait_replica("reporting")
    primary = tables(topology, "primary", APP_DATABASE)
    assert "accounts_profile" in primary
    assert "experiments_experiment" not in primary
    experiments_tables = {
        model._meta.db_table for model in apps.get_app_config("experiments").get_models()
    }
    assert "experiments_exposure" in experiments_tables
    assert tables(topology, "experiments", EXPERIMENTS_DATABASE) == {
        "django_migrations",
        *experiments_tables,
    }
    assert not experiments_tables & primary
    # Replicas hold exactly what replication brought them.
    for replica in ("replica", "reporting", "experiments_read"):
        topology.wait_replica(replica)
        assert tables(topology, replica, APP_DATABASE) == primary
    # Asking to migrate a replica applies nothing there.
    count = f"SELECT COUNT(*) FROM {APP_DATABASE}.django_migrations"
    before = topology.sql("replica", count)
    manage(migrated, "migrate", "--database", "replica_1", "-v", "0")
    assert topology.sql("replica", count) == before == topology.sql("primary", count)


def test_writing_through_reporting_fails_with_a_clear_error(topology, app_server):
    result_code = (
        "from apps.accounts.models import Profile\n"
        "from pinstablr.db.guards import ReadOnlyDatabaseError\n"
        "try:\n"
        "    Profile.objects.using('reporting').update(bio='changed by marketing')\n"
        "except ReadOnlyDatabaseError as error:\n"
        "    print('REFUSED', error)\n"
    )
    output = manage(app_server.env, "shell", "-c", result_code)
    assert "REFUSED The 'reporting' database is a read-only copy" in output
    # The account itself cannot write either: the rule does not rest on the guard.
    import MySQLdb

    port = int(topology.env["DATABASE_REPORTING_URL"].rsplit(":", 1)[1].split("/")[0])
    connection = MySQLdb.connect(
        host="127.0.0.1", port=port, user="pinstablr_ro", password="pinstablr_ro",
        database=APP_DATABASE,
    )  # fmt: skip
    with pytest.raises(MySQLdb.OperationalError, match=r"command denied|read-only|read_only"):
        connection.cursor().execute("UPDATE accounts_profile SET bio = 'x'")
    connection.close()


def test_the_next_request_after_a_write_sees_it(app_server):
    writer = Writer(app_server)
    for attempt in range(20):
        bio = f"bio {attempt} {uuid.uuid4().hex[:8]}"
        writer.write_bio(bio)
        assert writer.read_bio() == bio


def test_read_your_writes_holds_while_the_replica_sql_thread_is_stopped(topology, app_server):
    writer = Writer(app_server)
    topology.sql("replica", "STOP SLAVE SQL_THREAD")
    try:
        for attempt in range(10):
            bio = f"stopped {attempt}"
            writer.write_bio(bio)
            assert writer.read_bio() == bio
        # Other readers carry no position: within a check interval (and some slack for a busy
        # machine) every web server has seen that the replica no longer applies changes, and
        # reads the primary instead: four reads in a row show the write.
        wait_until(
            lambda: all(
                app_server.get("/api/v1/users/writer/").json()["bio"] == "stopped 9"
                for _ in range(4)
            ),
            timeout=REPLICA_CHECK_SECONDS + 5,
            what="other readers to see the write while the replica is stopped",
        )
    finally:
        topology.sql("replica", "START SLAVE SQL_THREAD")
    topology.wait_replica()


def test_reads_move_back_to_the_replica_once_it_has_applied_the_write(topology, app_server):
    """Causal reads by GTID: the writer reads the primary until the replica reaches its write,
    while everybody else keeps reading the (slightly behind) replica."""
    writer = Writer(app_server)
    topology.sql("replica", "STOP SLAVE")
    topology.sql("replica", "CHANGE MASTER TO MASTER_DELAY = 3")
    topology.sql("replica", "START SLAVE")
    try:
        topology.settle()
        before = topology.selects()
        writer.write_bio("delayed")
        for _ in range(5):
            assert writer.read_bio() == "delayed"
        after_writer = topology.selects()
        for _ in range(10):
            assert app_server.get("/api/v1/users/ada/").status_code == 200
        after_others = topology.selects()

        # The writer's five profile reads ran on the primary; the others' on the replica. (A
        # web worker's first connection to a server costs one SELECT of server variables.)
        assert after_writer["replica"] - before["replica"] <= 2
        assert after_others["replica"] - after_writer["replica"] >= 10

        topology.settle()
        before_caught_up = topology.com_select("replica")
        assert writer.read_bio() == "delayed"
        assert topology.com_select("replica") > before_caught_up
    finally:
        topology.sql("replica", "STOP SLAVE")
        topology.sql("replica", "CHANGE MASTER TO MASTER_DELAY = 0")
        topology.sql("replica", "START SLAVE")
    topology.wait_replica()


def test_a_read_mostly_workload_reads_mostly_from_the_replica(topology, app_server):
    """Ten rounds of: one write, the writer reading it back, twenty anonymous page and API
    reads. SELECTs are counted on each server over the read requests only."""
    writer = Writer(app_server)
    topology.settle()
    reads = {"primary": 0, "replica": 0}
    for round_number in range(10):
        writer.write_bio(f"round {round_number}")
        before = topology.selects()
        assert writer.read_bio() == f"round {round_number}"
        for _ in range(10):
            assert app_server.get("/api/v1/users/ada/").status_code == 200
            assert app_server.get("/").status_code == 200
        after = topology.selects()
        for server in reads:
            reads[server] += after[server] - before[server]
    share = reads["replica"] / (reads["replica"] + reads["primary"])
    print(f"read SELECTs: replica {reads['replica']}, primary {reads['primary']} ({share:.1%})")
    assert share >= 0.90


def test_a_replica_killed_mid_workload_costs_no_failed_request(topology, app_server):
    failures: list[str] = []
    served = [0]
    stop = threading.Event()

    def browse() -> None:
        while not stop.is_set():
            for path in ("/api/v1/users/ada/", "/"):
                try:
                    response = app_server.get(path)
                    if response.status_code != 200:
                        failures.append(f"{path}: {response.status_code}")
                    served[0] += 1
                except requests.RequestException as error:
                    failures.append(f"{path}: {error}")

    threads = [threading.Thread(target=browse) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: served[0] >= 20, timeout=30, what="the browsing to be under way")
        topology.kill("replica")
        at_kill = served[0]
        wait_until(
            lambda: app_server.get("/readyz").json()["status"] == "degraded",
            timeout=30,
            what="/readyz to report the replica down",
        )
        ready = app_server.get("/readyz")
        assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
        wait_until(
            lambda: served[0] - at_kill >= 50,
            timeout=30,
            what="50 requests served after the replica died",
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        topology.start("replica")
    assert served[0] > 50
    assert failures == []

    time.sleep(2.5)  # past the cooldown: a failed replica is skipped for 2s, on purpose
    topology.settle()
    before = topology.com_select("replica")
    for _ in range(20):
        assert app_server.get("/api/v1/users/ada/").status_code == 200
    assert topology.com_select("replica") - before >= 10
    assert app_server.get("/readyz").json()["status"] == "ok"


def test_the_topology_command_shows_every_alias_with_its_lag(topology, app_server):
    topology.settle()
    output = manage(app_server.env, "topology")
    lines = {line.split()[0]: line for line in output.splitlines()[1:]}
    assert set(lines) == {"default", "replica_1", "reporting", "experiments_read", "experiments"}
    for alias in ("replica_1", "reporting", "experiments_read"):
        assert "reachable" in lines[alias]
        assert lines[alias].rstrip().endswith("0s"), lines[alias]
    assert "mysql" in lines["default"]
