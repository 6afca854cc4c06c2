#!/usr/bin/env python3
"""Serve Pinstablr on embedded defaults: the web server and a Celery worker, side by side.

    python3 -m deploy.local.serve_embedded            # what `make run` runs
    python3 -m deploy.local.serve_embedded --prepare  # migrate and load the demo data first

The worker reads the same filesystem queue the web process writes, so tasks run off the
request just as they do on the real topology.  The terminal shows where the site is and who
can sign in; everything the processes print (requests, report runs, the broker's warnings)
goes to ``<var>/log/run.log``.  Ctrl-C stops both and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ADDRESS = os.environ.get("PINSTABLR_ADDRESS", "127.0.0.1:8000")
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
STOPPED = "\nstopped" if sys.stdout.isatty() else "stopped"  # after the terminal's "^C"
# What `make run` needs before serving; each is safe to run again.
PREPARE = (
    ("migrate_all", "-v", "0"),
    ("load_demo_data",),
    ("load_site_experiments",),
)


def settings_facts() -> tuple[Path, list[str], str]:
    """The var directory, the demo users and their password, as the settings and data say."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pinstablr.settings.dev")
    import django
    from django.conf import settings

    django.setup()
    from apps.accounts.management.commands.load_demo_data import DEMO_PASSWORD, DEMO_PEOPLE

    return Path(settings.VAR_DIR), [person[0] for person in DEMO_PEOPLE], DEMO_PASSWORD


def shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    with contextlib.suppress(ValueError):
        return str(path.relative_to(REPO))
    return str(path)


def log_tail(log: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of ``log``."""
    with contextlib.suppress(FileNotFoundError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


def prepare(log: Path) -> bool:
    """Migrate every database and load the demo data, output to ``log``; whether all worked."""
    for command in PREPARE:
        with open(log, "ab") as out:
            result = subprocess.run(
                [sys.executable, "manage.py", *command], cwd=REPO, stdout=out, stderr=out,
                stdin=subprocess.DEVNULL, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            print(f"manage.py {' '.join(command)} failed; last lines of {shown(log)}:")
            print(log_tail(log), flush=True)
            return False
    return True


def answers(url: str) -> bool:
    """Whether ``url`` answers at all (any HTTP status)."""
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own loopback address
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextlib.contextmanager
def own_terminal_group() -> Iterator[None]:
    """Make this process's group the terminal's foreground group while it serves.

    Ctrl-C then reaches only this launcher and its two processes, not ``make`` above it
    (which would report "Interrupt" and exit 130 whatever the launcher returns).
    """
    if os.getpgrp() == os.getpid():  # a group of its own already (started from a shell)
        yield
        return
    try:
        terminal = os.open("/dev/tty", os.O_RDWR)
    except OSError:  # no terminal: tests, services
        yield
        return
    try:
        previous = os.tcgetpgrp(terminal)
        if previous != os.getpgrp():  # started in the background: leave the terminal alone
            yield
            return
        os.setpgid(0, 0)
        handler = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        try:
            os.tcsetpgrp(terminal, os.getpgrp())
            yield
        finally:
            with contextlib.suppress(OSError):
                os.tcsetpgrp(terminal, previous)
            signal.signal(signal.SIGTTOU, handler)
    finally:
        os.close(terminal)


def serve(log: Path, users: list[str], password: str) -> int:
    """Run the web server and the worker until Ctrl-C (0) or until one of them fails (1)."""
    python = sys.executable
    with open(log, "ab") as out:
        worker = subprocess.Popen(
            [python, "-m", "celery", "-A", "pinstablr", "worker", "-Q", "images,reports,default",
             "--concurrency", "2", "--loglevel", "INFO"],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip
        web = subprocess.Popen(
            [python, "manage.py", "runserver", "--noreload", ADDRESS],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process in (web, worker):
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    url = f"http://{ADDRESS}/"
    deadline = time.monotonic() + READY_TIMEOUT
    while not stopping and web.poll() is None and worker.poll() is None:
        if answers(url + "healthz"):
            break
        if time.monotonic() > deadline:
            print(f"the web server did not answer within {READY_TIMEOUT:.0f}s", flush=True)
            break
        time.sleep(0.2)
    if not stopping and web.poll() is None and worker.poll() is None:
        print(f"Pinstablr is at {url}", flush=True)
        print(f"Demo users: {', '.join(users)} (password: {password})", flush=True)
        print(f"Log (requests, worker, report runs): {shown(log)}. Ctrl-C stops it.", flush=True)
    # Whichever stops first (or a signal) stops the other.
    while not stopping and web.poll() is None and worker.poll() is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            web.wait(timeout=1)
    failed = not stopping
    culprit = "the web server" if web.poll() is not None else "the worker"
    stop(signal.SIGTERM, None)
    for process in (web, worker):
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if failed:
        print(f"{culprit} stopped; last lines of {shown(log)}:\n{log_tail(log)}", flush=True)
        return 1
    print(STOPPED, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--prepare", action="store_true", help="migrate and load the demo data before serving"
    )
    args = parser.parse_args(argv)
    var_dir, users, password = settings_facts()
    log = var_dir / "log" / "run.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} make run\n".encode())
    with own_terminal_group():
        try:
            if args.prepare and not prepare(log):
                return 1
        except KeyboardInterrupt:  # Ctrl-C before the site was up
            print(STOPPED, flush=True)
            return 0
        return serve(log, users, password)


if __name__ == "__main__":
    if not __package__:  # run as a file: run the package's module, which imports the project
        _PATH = os.pathsep.join(filter(None, [str(REPO), os.getenv("PYTHONPATH")]))
        _ARGV = [sys.executable, "-m", "deploy.local.serve_embedded", *sys.argv[1:]]
        os.execve(sys.executable, _ARGV, {**os.environ, "PYTHONPATH": _PATH})  # noqa: S606
    sys.exit(main())
