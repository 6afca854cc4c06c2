"""An image worker killed with SIGKILL mid-photo loses nothing and duplicates nothing.

Real processes: gunicorn serving the API, a Celery worker on the ``images`` queue of the
machine's RabbitMQ, SQLite files and local storage shared between them.
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kombu import Connection

from tests.processes import REPO, app_environment, create_token, manage, start_gunicorn, stop

from . import samples

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "pinstablr", "worker", "-Q", "images",
         "--concurrency", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
        cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


@pytest.fixture
def stack(tmp_path: Path, rabbitmq_url: str) -> Iterator[dict[str, object]]:
    with Connection(rabbitmq_url) as connection:
        connection.SimpleQueue("images", queue_args={"x-max-priority": 10}).clear()
    env = app_environment(tmp_path, CELERY_BROKER_URL=rabbitmq_url)
    manage(env, "migrate_all", "-v", "0")
    token = create_token(env, "uploader")
    web, url = start_gunicorn(env, workers=1)
    yield {"env": env, "url": url, "token": token, "var": tmp_path}
    stop(web)


def photo_state(stack: dict[str, object], photo_id: int) -> dict:
    response = requests.get(
        f"{stack['url']}/api/v1/photos/{photo_id}/",
        headers={"Authorization": f"Token {stack['token']}"}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def test_a_worker_killed_mid_photo_loses_nothing_and_duplicates_nothing(stack, tmp_path):
    log = tmp_path / "worker.log"
    worker = start_worker(stack["env"], log)
    try:
        # Big enough that processing takes a while, so the kill lands in the middle.
        data = samples.jpeg((6000, 4000), quality=95)
        response = requests.post(
            f"{stack['url']}/api/v1/photos/",
            headers={"Authorization": f"Token {stack['token']}"},
            files={"image": ("big.jpg", io.BytesIO(data), "image/jpeg")}, timeout=60,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        photo_id = response.json()["id"]

        deadline = time.monotonic() + 60
        while photo_state(stack, photo_id)["status"] != "processing":
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.02)
        stop(worker, signal.SIGKILL)
        assert photo_state(stack, photo_id)["status"] == "processing", "killed mid-photo"

        worker = start_worker(stack["env"], log)
        # Ready, then the AVIF set follows at lower priority: 4 widths x 3 formats in all.
        deadline = time.monotonic() + 180
        while len((state := photo_state(stack, photo_id))["renditions"]) < 12:
            assert state["status"] != "failed", state
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        assert state["status"] == "ready"
    finally:
        stop(worker)

    assert sorted((r["width"], r["format"]) for r in state["renditions"]) == sorted(
        (w, f) for w in (256, 640, 1280, 2048) for f in ("avif", "jpeg", "webp")
    )
    stored = [p for p in (stack["var"] / "media" / "r").rglob("*") if p.is_file()]
    assert len(stored) == len(state["renditions"]), "no orphaned or duplicate files"
