"""`make run` on a fresh machine: embedded databases, demo data, web server and worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.services import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_embedded_service_serves_the_home_page_with_demo_data(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "REDIS_"))
    }
    env |= {"PINSTABLR_VAR_DIR": str(tmp_path), "PINSTABLR_ADDRESS": f"127.0.0.1:{port}"}
    for command in (["migrate_all", "-v", "0"], ["load_demo_data"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=REPO, env=env, check=True, timeout=120
        )
    server = subprocess.Popen(
        [sys.executable, "deploy/local/serve_embedded.py"], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                home = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "the server did not come up in 60 s"
                time.sleep(0.3)
        ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert home.status_code == 200
    assert "@ada" in home.text
    assert ready.json()["status"] == "ok", ready.text
    assert (tmp_path / "db" / "pinstablr.sqlite3").exists()
    assert (tmp_path / "db" / "experiments.sqlite3").exists()
