from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import Connection

from pinstablr.celery import app
from tests.services import free_port, missing

SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared"


@pytest.fixture(autouse=True)
def photo_storages(settings, tmp_path: Path) -> dict[str, Path]:
    """Originals and renditions in a temp folder, per test."""
    folders = {"originals": tmp_path / "private", "renditions": tmp_path / "media" / "r"}
    settings.STORAGES = {
        **settings.STORAGES,
        "originals": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folders["originals"], "allow_overwrite": True},
        },
        "renditions": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": folders["renditions"],
                "base_url": "/media/r/",
                "allow_overwrite": True,
            },
        },
    }
    return folders


def stored_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


class ImagesQueue:
    """The messages waiting on the ``images`` queue of the test broker (kombu's memory one)."""

    def count(self) -> int:
        with Connection(app.conf.broker_url) as connection:
            return connection.SimpleQueue("images").qsize()

    def purge(self) -> None:
        with Connection(app.conf.broker_url) as connection:
            connection.SimpleQueue("images").clear()


@pytest.fixture
def images_queue() -> Iterator[ImagesQueue]:
    queue = ImagesQueue()
    queue.purge()
    yield queue
    queue.purge()


def shared_path(*parts: str) -> Path:
    path = SHARED_DIR.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared is beside the repo in CI)")
    return path


@pytest.fixture
def own_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis server of this test's own, so it can be stopped and started."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server is not installed")
    port = free_port()
    command = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        import redis

        while True:
            try:
                redis.Redis(port=port).ping()
                return process
            except redis.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)

    process = start()
    state = {"process": process, "start": start}
    yield f"redis://127.0.0.1:{port}/0", state
    state["process"].kill()
    state["process"].wait()
