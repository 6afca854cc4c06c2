"""Detached processes tracked by pid files, for deploy/local/cluster.py: stdlib only.

A pid file holds the pid and the process's start time (field 22 of ``/proc/<pid>/stat``), so
a pid reused by an unrelated process after a crash is never taken for ours, and never
signalled.  Every process is started in a session of its own (so it is the leader of its
process group) and stopped by signalling that group, then any descendant that left it (an
Erlang VM starts helpers in sessions of their own): SIGTERM, then SIGKILL after a timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import procutil

# Popen handles of processes started by this process, so exited children get reaped.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class StartError(RuntimeError):
    """A process exited or did not become ready while starting."""


@dataclass(frozen=True)
class PidRecord:
    """What a pid file says: the pid and the kernel's start time of that process."""

    pid: int
    start_time: int


def _reap(pid: int) -> None:
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(pid, None)


def start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # Fields after the parenthesised command name (which may contain spaces); starttime is
    # field 22 overall, the 20th after the name.
    return int(stat.rsplit(")", 1)[1].split()[19])


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (and is not a zombie); reaps it if it is our exited child."""
    _reap(pid)
    return procutil.proc_alive(pid)


def read_pid(pid_file: Path) -> PidRecord | None:
    """The record in ``pid_file`` if that very process still runs, else None."""
    try:
        pid_text, started_text = pid_file.read_text().split()
        record = PidRecord(int(pid_text), int(started_text))
    except (FileNotFoundError, ValueError):
        return None
    if alive(record.pid) and start_time(record.pid) == record.start_time:
        return record
    return None


def children_of() -> dict[int, list[int]]:
    """Every process's children, from the parent pid in /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    """Every descendant of ``pid`` (children, their children, ...)."""
    tree, found, todo = children_of(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def spawn(
    argv: list[str],
    *,
    env: dict[str, str],
    log: Path,
    pid_file: Path,
    cwd: Path,
) -> int:
    """Start ``argv`` detached (own session), output appended to ``log``; write ``pid_file``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {argv[0]}\n".encode())
        out.flush()
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd=cwd,
            env=env,
        )
    _CHILDREN[child.pid] = child
    started = start_time(child.pid)
    pid_file.write_text(f"{child.pid} {started or 0}\n")
    return child.pid


def wait_until(
    ready: Callable[[], bool], *, pid: int, timeout: float, what: str, log: Path
) -> None:
    """Wait for ``ready()``; raise StartError with the log's tail if ``pid`` dies or time is up."""
    deadline = time.monotonic() + timeout
    while True:
        if not alive(pid):
            raise StartError(f"{what} (pid {pid}) exited while starting:\n{log_tail(log)}")
        with contextlib.suppress(OSError):
            if ready():
                return
        if time.monotonic() > deadline:
            raise StartError(f"{what} was not ready within {timeout:.0f}s:\n{log_tail(log)}")
        time.sleep(0.1)


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def stop(pid_file: Path, *, timeout: float) -> int | None:
    """Stop the process of ``pid_file`` and its descendants; return its pid (None if not running).

    SIGTERM to its process group and to descendants outside it, then SIGKILL to whatever is
    left after ``timeout`` seconds.  Raises RuntimeError if anything survives SIGKILL.
    """
    record = read_pid(pid_file)
    if record is None:
        pid_file.unlink(missing_ok=True)
        return None
    family = [record.pid, *descendants(record.pid)]
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(record.pid, signal.SIGTERM)
    _signal_all(family, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(pid) for pid in family):
        time.sleep(0.05)
    survivors = [pid for pid in family if alive(pid)]
    if survivors:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.pid, signal.SIGKILL)
        _signal_all(survivors, signal.SIGKILL)
        for pid in survivors:
            procutil.wait_gone(pid, 5.0, alive)
    left = [pid for pid in family if alive(pid)]
    if left:
        raise RuntimeError(f"processes survived SIGKILL: {left}")
    pid_file.unlink(missing_ok=True)
    _CHILDREN.pop(record.pid, None)
    return record.pid


def log_tail(log: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of ``log``."""
    try:
        text = log.read_bytes()[-20000:].decode(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def ancestors() -> set[int]:
    """This process and its ancestors (a shell whose command line names the marker, say)."""
    found, pid = set(), os.getpid()
    while pid > 1 and pid not in found:
        found.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            break
    return found


def processes_mentioning(marker: str) -> list[int]:
    """Pids whose command line or environment contains ``marker``, except our own line."""
    needle, ours = marker.encode(), ancestors()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in ours:
            continue
        for part in ("cmdline", "environ"):
            with contextlib.suppress(OSError):
                if needle in (entry / part).read_bytes() and alive(int(entry.name)):
                    found.append(int(entry.name))
                    break
    return found
