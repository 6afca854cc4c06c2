"""The processes of the local servers (topology, s3, cluster): one supervisor, stdlib only.

Every server is started detached, in a session of its own (so it leads its process group),
with its output appended to a log file.  Processes started by this very process keep their
``Popen`` handle here until they are forgotten, so an exited child is reaped (never left a
zombie that still looks alive) and its exit status can be reported.

A process is found again from a pid file, checked against what runs under that pid now, so a
pid reused by an unrelated process after a crash is never taken for ours and never signalled:
the topology and S3 servers by their command line (``find_pids``), the cluster's parts by
their kernel start time, which their pid file records too (``read_pid``).  Cluster parts are
stopped with their whole family (``stop``): SIGTERM to the process group and to any
descendant that left it (an Erlang VM starts helpers in sessions of their own), then SIGKILL
after a timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The repository these scripts belong to.
REPO_ROOT = Path(__file__).resolve().parents[2]

KILL_TIMEOUT = 5.0
LOG_TAIL_BYTES = 64_000

# Popen handles of processes started by this process, until ``forget``.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class StartError(RuntimeError):
    """A process exited or did not become ready while starting."""


@dataclass(frozen=True)
class PidRecord:
    """What a cluster pid file says: the pid and the kernel's start time of that process."""

    pid: int
    start_time: int


# --------------------------------------------------------------------------------------------
# Children of this process
# --------------------------------------------------------------------------------------------


def track(child: subprocess.Popen[bytes]) -> None:
    """Keep the handle of ``child`` so it is reaped when it exits."""
    _CHILDREN[child.pid] = child


def reap(pid: int) -> None:
    """Collect the exit status of ``pid`` if it is an exited child of this process.

    The handle stays (with its exit status) until ``forget``.
    """
    child = _CHILDREN.get(pid)
    if child is not None:
        child.poll()


def forget(pid: int, timeout: float = KILL_TIMEOUT) -> int | None:
    """Reap the child ``pid`` (if it is ours) and drop its handle; return its exit status."""
    child = _CHILDREN.pop(pid, None)
    if child is None:
        return None
    # Waiting sets returncode, so dropping the handle raises no "still running" warning.
    with contextlib.suppress(subprocess.TimeoutExpired):
        return child.wait(timeout=timeout)
    return None


# --------------------------------------------------------------------------------------------
# /proc
# --------------------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (the state first), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name is parenthesised and may itself contain spaces and parentheses.
    return stat.rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie; reaps it first if it is our exited child."""
    reap(pid)
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot, or None if it is gone."""
    fields = _stat_fields(pid)
    # starttime is field 22 overall, the 20th after the command name.
    return int(fields[19]) if fields is not None else None


def cmdline(pid: int) -> list[bytes] | None:
    """The argument vector of the live process ``pid``, or None if it is gone or unreadable."""
    if not alive(pid):
        return None
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def scan_proc(matches: Callable[[int], bool]) -> list[int]:
    """Every pid in /proc for which ``matches`` is true."""
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and matches(int(entry.name))
    ]


def runs(pid: int, argv_matches: Callable[[list[bytes]], bool]) -> bool:
    """Whether ``pid`` is a live process whose argument vector ``argv_matches``."""
    argv = cmdline(pid)
    return argv is not None and argv_matches(argv)


def find_pids(pid_file: Path, argv_matches: Callable[[list[bytes]], bool]) -> list[int]:
    """The server's pid from ``pid_file`` if it still runs, else every match in /proc."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        pid = 0
    if pid > 0 and runs(pid, argv_matches):
        return [pid]
    return scan_proc(lambda candidate: runs(candidate, argv_matches))


def wait_exit(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit; return whether it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


def children_of() -> dict[int, list[int]]:
    """Every process's children, from the parent pid in /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and len(fields) > 1 and fields[1].isdigit():
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    """Every descendant of ``pid`` (children, their children, ...)."""
    tree, found, todo = children_of(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def ancestors() -> set[int]:
    """This process and its ancestors (a shell whose command line names the marker, say)."""
    found: set[int] = set()
    pid = os.getpid()
    while pid > 1 and pid not in found:
        found.add(pid)
        fields = _stat_fields(pid)
        if fields is None or len(fields) < 2 or not fields[1].isdigit():
            break
        pid = int(fields[1])
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


# --------------------------------------------------------------------------------------------
# Locks and logs
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if missing); not re-entrant.

    Serialises concurrent starts and stops of one set of servers, e.g. from several
    pytest-xdist workers sharing them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def log_size(log: Path) -> int:
    """The current size of ``log``, so a failure can show only the lines written after it."""
    try:
        return log.stat().st_size
    except FileNotFoundError:
        return 0


def log_tail(log: Path, *, lines: int = 20, start: int = 0) -> str:
    """The last ``lines`` lines of ``log`` written after byte offset ``start``."""
    try:
        with open(log, "rb") as handle:
            handle.seek(max(start, log_size(log) - LOG_TAIL_BYTES))
            text = handle.read().decode(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


# --------------------------------------------------------------------------------------------
# Detached processes tracked by pid files (the cluster's parts)
# --------------------------------------------------------------------------------------------


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
    track(child)
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
            wait_exit(pid, KILL_TIMEOUT)
    left = [pid for pid in family if alive(pid)]
    if left:
        raise RuntimeError(f"processes survived SIGKILL: {left}")
    pid_file.unlink(missing_ok=True)
    forget(record.pid)
    return record.pid


def rerun_as_module(module: str) -> None:
    """Replace this process with ``python -m module``, the repository on ``PYTHONPATH``.

    For the scripts of this folder run as files (``python deploy/local/topology.py``): they
    import the ``deploy`` package, which a file run from here cannot see. Nothing edits
    ``sys.path``; the same command runs as the package's module.
    """
    import sys

    path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.getenv("PYTHONPATH")]))
    argv = [sys.executable, "-m", module, *sys.argv[1:]]
    os.execve(sys.executable, argv, {**os.environ, "PYTHONPATH": path})  # noqa: S606


def command_parser(*, description: str, base_dir_help: str) -> argparse.ArgumentParser:
    """The command line the local servers' scripts share: ``up|down|status|env`` and options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("command", choices=("up", "down", "status", "env"))
    parser.add_argument("--base-dir", help=base_dir_help)
    parser.add_argument("--purge", action="store_true", help="down: also delete the base dir")
    parser.add_argument("--json", action="store_true", help="env: print JSON instead of exports")
    return parser


def parse_command(
    parser: argparse.ArgumentParser, argv: list[str] | None, **only_for: str
) -> argparse.Namespace:
    """Parse ``argv``; an option given to a command it does not apply to is an error."""
    args = parser.parse_args(argv)
    for option, command in {"purge": "down", "json": "env", **only_for}.items():
        if getattr(args, option) and args.command != command:
            parser.error(f"--{option} only applies to {command}")
    return args


def print_environment(env: dict[str, Any], *, as_json: bool) -> None:
    """Print ``env`` as JSON, or as ``export`` lines for a shell (nested details left out)."""
    if as_json:
        print(json.dumps(env, indent=2))
        return
    for key, value in env.items():
        if not isinstance(value, dict):
            print(f"export {key}={shlex.quote(str(value))}")


def timed_down(what: str, stop: Callable[[], None], *, purge: bool) -> int:
    """Run ``stop`` and say how long ``what`` took to go down; the exit code (0)."""
    started = time.monotonic()
    stop()
    purged = " and purged" if purge else ""
    print(f"{what} down{purged} in {time.monotonic() - started:.2f}s")
    return 0
