"""`make run` on a fresh machine: embedded databases, demo data, web server and worker."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time

import pytest
import requests
from PIL import Image

from tests.processes import REPO, app_environment, create_token, manage, wait_for_http
from tests.services import free_port


@pytest.mark.slow
def test_the_embedded_service_serves_pages_and_processes_uploads_off_the_request(tmp_path):
    port = free_port()
    # The embedded defaults: no database, cache or broker URL at all.
    env = app_environment(tmp_path, PINSTABLR_ADDRESS=f"127.0.0.1:{port}")
    del env["DJANGO_SETTINGS_MODULE"], env["DJANGO_DEBUG"]
    manage(env, "migrate_all", "-v", "0")
    manage(env, "load_demo_data")
    token = create_token(env, "ada")
    server = subprocess.Popen(
        [sys.executable, "deploy/local/serve_embedded.py"], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server)
        home = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        photo = upload_and_wait_until_processed(f"http://127.0.0.1:{port}", token)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert home.status_code == 200
    assert "@ada" in home.text, "the demo photos are on the home page"
    assert "<picture" in home.text
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
    assert served.headers["Cache-Control"] == "public, max-age=31536000, s-maxage=600, immutable"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    return photo
