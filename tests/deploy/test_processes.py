"""deploy/local/processes.py, the one supervisor of the topology, S3 and cluster processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from deploy.local import cluster, processes, s3, topology


def test_every_local_server_module_uses_the_one_supervisor():
    for module in (topology, s3, cluster):
        assert module.processes is processes
        for private_copy in ("_reap", "_pid_alive", "_is_our_server", "_wait_exit", "_locked"):
            assert not hasattr(module, private_copy), f"{module.__name__}.{private_copy}"


def test_log_tail_shows_the_last_lines_written_after_an_offset(tmp_path):
    log = tmp_path / "server.log"
    assert processes.log_tail(log) == "(no log)"
    log.write_text("an earlier start\n")
    start = processes.log_size(log)
    assert processes.log_tail(log, start=start) == "(empty log)"
    with open(log, "a") as out:
        out.write("".join(f"line {number}\n" for number in range(30)))
    assert processes.log_tail(log, start=start, lines=2) == "line 28\nline 29"
    assert "an earlier start" not in processes.log_tail(log, start=start, lines=100)


def test_a_pid_file_is_trusted_only_for_a_process_with_the_servers_command_line(tmp_path):
    marker = f"--pinstablr-test-{tmp_path.name}"

    def ours(argv: list[bytes]) -> bool:
        return marker.encode() in argv

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    processes.track(child)
    pid_file = tmp_path / "server.pid"
    try:
        pid_file.write_text(f"{os.getpid()}\n")  # alive, but not the server: found in /proc
        assert processes.find_pids(pid_file, ours) == [child.pid]
        pid_file.write_text(f"{child.pid}\n")
        assert processes.find_pids(pid_file, ours) == [child.pid]
    finally:
        child.send_signal(signal.SIGKILL)
    assert processes.wait_exit(child.pid, 5)
    assert processes.forget(child.pid) == -signal.SIGKILL
    assert processes.find_pids(pid_file, ours) == []
