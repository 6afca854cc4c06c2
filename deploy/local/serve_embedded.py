#!/usr/bin/env python3
"""Serve Pinstablr on embedded defaults: the web server and a Celery worker, side by side.

The worker reads the same filesystem queue the web process writes, so tasks run off the
request just as they do on the real topology. Ctrl-C stops both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ADDRESS = os.environ.get("PINSTABLR_ADDRESS", "127.0.0.1:8000")


def main() -> int:
    python = sys.executable
    worker = subprocess.Popen(
        [python, "-m", "celery", "-A", "pinstablr", "worker", "-Q", "images,reports,default",
         "--concurrency", "2", "--loglevel", "INFO"],
        cwd=REPO,
    )  # fmt: skip
    web = subprocess.Popen([python, "manage.py", "runserver", "--noreload", ADDRESS], cwd=REPO)
    print(f"Pinstablr is at http://{ADDRESS}/ (Ctrl-C stops it)", flush=True)

    def stop(signum: int, frame: object) -> None:
        for process in (web, worker):
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # Whichever stops first (or a signal) stops the other.
    while web.poll() is None and worker.poll() is None:
        try:
            web.wait(timeout=1)
        except subprocess.TimeoutExpired:
            continue
    stop(signal.SIGTERM, None)
    for process in (web, worker):
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    return web.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
