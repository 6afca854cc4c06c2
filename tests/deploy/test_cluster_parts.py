"""deploy/local/cluster.py's pieces that need no servers: the rendered nginx configuration,
the port layout and the pid-file bookkeeping that ``down`` relies on."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.local import cluster
from deploy.local import processes as supervise
from tests.deploy.test_nginx import directives, nginx_binary
from tests.waiting import wait_until

cluster_nginx = cluster.cluster_nginx


def test_the_rendered_configuration_is_the_shipped_one_on_loopback_ports():
    shipped = (cluster_nginx.SHIPPED / "nginx.conf").read_text()
    rendered = cluster_nginx.render_main(26080)
    assert "listen 127.0.0.1:26080 default_server;" in rendered
    assert "listen 80" not in rendered
    assert rendered.replace("listen 127.0.0.1:26080", "listen 80") == shipped

    upstream = directives(cluster_nginx.render_upstream(["127.0.0.1:1", "127.0.0.1:2"]))
    servers = re.findall(r"^\s*server\s+(\S+)\s+([^;]*);", upstream, re.MULTILINE)
    assert servers == [
        ("127.0.0.1:1", "max_fails=3 fail_timeout=10s"),
        ("127.0.0.1:2", "max_fails=3 fail_timeout=10s"),
    ]


def test_nginx_accepts_the_rendered_configuration(tmp_path):
    conf = cluster_nginx.write(tmp_path, port=26080, servers=["127.0.0.1:9", "127.0.0.1:10"])
    result = subprocess.run(
        cluster_nginx.command(nginx_binary(), tmp_path, conf, "-t"),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_every_port_of_a_cluster_is_distinct_and_off_the_standard_ones(tmp_path):
    layout = cluster.layout(tmp_path, 26000)
    ports = [
        layout.nginx_port, *(layout.web_port(name) for name in cluster.WEB_SERVERS),
        *(layout.topology_port_base + offset for offset in range(5)),
        *(layout.s3_port + offset for offset in range(5)),
        *(layout.s3_port + 10000 + offset for offset in range(5)),
        layout.redis_port, layout.epmd_port, layout.rabbitmq_port, layout.rabbitmq_dist_port,
        *(layout.worker_metrics_port(name) for name in (*cluster.IMAGE_WORKERS, "reports")),
    ]  # fmt: skip
    assert len(set(ports)) == len(ports)
    assert not {80, 443, 3306, 4369, 5672, 6379, 8000, 8333, 25672} & set(ports)


def test_the_app_environment_is_complete_for_the_production_settings(tmp_path):
    from pinstablr.settings.required import missing_variables

    env = cluster.app_environment(cluster.layout(tmp_path, 26000))
    assert env["DJANGO_SETTINGS_MODULE"] == "pinstablr.settings.production"
    assert missing_variables(env) == []
    assert env["PINSTABLR_MEDIA_STORAGE"] == "s3"
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "AWS_S3_ENDPOINT_URL"):
        assert "@127.0.0.1:" in env[key] or "//127.0.0.1:" in env[key], key


def test_secrets_are_made_once_per_cluster_and_kept_private(tmp_path):
    first = cluster.cluster_secrets(cluster.layout(tmp_path / "a", 26000))
    again = cluster.cluster_secrets(cluster.layout(tmp_path / "a", 26000))
    other = cluster.cluster_secrets(cluster.layout(tmp_path / "b", 26000))
    assert first == again
    assert first["django_secret_key"] != other["django_secret_key"]
    assert (tmp_path / "a" / "secrets.json").stat().st_mode & 0o777 == 0o600


def spawn_sleeper_with_an_escaped_child(tmp_path: Path) -> tuple[Path, int]:
    """A process whose child runs in a session of its own, as Erlang's helpers do."""
    pid_file = tmp_path / "run" / "sleeper.pid"
    child_pid_file = tmp_path / "child.pid"
    script = f"setsid sh -c 'echo $$ > {child_pid_file}; exec sleep 300' & exec sleep 300"
    supervise.spawn(
        ["sh", "-c", script], env=dict(os.environ), log=tmp_path / "sleeper.log",
        pid_file=pid_file, cwd=tmp_path,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not child_pid_file.exists() or not child_pid_file.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return pid_file, int(child_pid_file.read_text())


def test_stop_ends_the_process_and_descendants_that_left_its_group(tmp_path):
    pid_file, child = spawn_sleeper_with_an_escaped_child(tmp_path)
    record = supervise.read_pid(pid_file)
    assert record is not None
    assert os.getpgid(child) != record.pid  # outside the process group
    assert supervise.stop(pid_file, timeout=5) == record.pid
    assert not supervise.alive(record.pid)
    assert not supervise.alive(child)
    assert not pid_file.exists()


def test_stop_kills_what_ignores_sigterm(tmp_path):
    pid_file = tmp_path / "stubborn.pid"
    supervise.spawn(
        ["sh", "-c", "trap '' TERM; : > trapped; while :; do sleep 0.1; done"],
        env=dict(os.environ), log=tmp_path / "stubborn.log", pid_file=pid_file, cwd=tmp_path,
    )  # fmt: skip
    wait_until((tmp_path / "trapped").exists, timeout=10, what="the shell to ignore SIGTERM")
    record = supervise.read_pid(pid_file)
    assert record is not None
    began = time.monotonic()
    supervise.stop(pid_file, timeout=1)
    assert time.monotonic() - began < 5
    assert not supervise.alive(record.pid)


def test_a_pid_file_naming_a_reused_pid_is_not_ours(tmp_path):
    pid_file = tmp_path / "old.pid"
    # Our own pid, but with another start time: the process the file meant has exited and
    # the pid now belongs to someone else, who must not be signalled.
    pid_file.write_text(f"{os.getpid()} 1\n")
    assert supervise.read_pid(pid_file) is None
    assert supervise.stop(pid_file, timeout=1) is None
    assert not pid_file.exists()


@pytest.mark.parametrize("argv", [["status", "--port-base", "80"], ["start"], ["stop", "nope"]])
def test_the_command_line_refuses_bad_input(argv, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "deploy.local.cluster", "--state-dir", str(tmp_path), *argv],
        cwd=cluster.REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode in (1, 2)
    assert "error" in result.stderr


def test_processes_mentioning_finds_a_process_by_its_environment(tmp_path):
    marker = str(tmp_path / "marker-dir")
    process = subprocess.Popen(["sleep", "30"], env={**os.environ, "PINSTABLR_CLUSTER_DIR": marker})
    try:
        assert supervise.processes_mentioning(marker) == [process.pid]
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert supervise.processes_mentioning(marker) == []
