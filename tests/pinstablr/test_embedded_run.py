"""`make run` on a fresh machine: embedded databases, demo data, web server and worker."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.services import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_embedded_service_serves_pages_and_processes_uploads_off_the_request(tmp_path):
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
    token = subprocess.run(
        [sys.executable, "manage.py", "drf_create_token", "ada"], cwd=REPO, env=env,
        check=True, timeout=120, capture_output=True, text=True,
    ).stdout.split()[2]  # fmt: skip
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
        photo = upload_and_wait_until_processed(f"http://127.0.0.1:{port}", token)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert home.status_code == 200
    assert "@ada" in home.text
    assert ready.json()["status"] == "ok", ready.text
    assert (tmp_path / "db" / "pinstablr.sqlite3").exists()
    assert (tmp_path / "db" / "experiments.sqlite3").exists()
    assert photo["status"] == "ready"
    assert len(photo["renditions"]) >= 2


def upload_and_wait_until_processed(url: str, token: str) -> dict:
    """The embedded worker (a filesystem queue) processes uploads off the request."""
    headers = {"Authorization": f"Token {token}"}
    data = Image.new("RGB", (900, 600), (30, 120, 200))
    buffer = io.BytesIO()
    data.save(buffer, "JPEG")
    response = requests.post(
        f"{url}/api/v1/photos/", headers=headers, timeout=30,
        files={"image": ("first.jpg", buffer.getvalue(), "image/jpeg")},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending", "processing happens off the request"
    deadline = time.monotonic() + 60
    while True:
        photo = requests.get(
            f"{url}/api/v1/photos/{response.json()['id']}/", headers=headers, timeout=10
        ).json()
        if photo["status"] == "ready" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    served = requests.get(url + photo["renditions"][0]["url"], timeout=10)
    assert served.status_code == 200
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    return photo
