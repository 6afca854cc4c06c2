"""Services queue tasks by the name Celery registered them under (they never import a task
module): each name they use is a registered task, and it reaches the task's queue."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from apps.photos.services import enqueue_avif, enqueue_processing
from pinstablr.celery import app

APPS = Path(__file__).resolve().parents[2] / "apps"
QUEUED = re.compile(r"enqueue\(\s*\"([\w.]+)\"")


def queued_names() -> set[str]:
    """Every task name the apps' code passes to ``enqueue``."""
    return {name for path in APPS.rglob("*.py") for name in QUEUED.findall(path.read_text("utf-8"))}


def test_the_apps_queue_tasks_by_name():
    assert queued_names() >= {
        "apps.photos.tasks.process_photo",
        "apps.photos.tasks.encode_avif",
        "apps.reports.tasks.run_report_window",
    }


@pytest.mark.parametrize("name", sorted(queued_names()))
def test_each_queued_name_is_a_registered_task(name):
    module, _, function = name.rpartition(".")
    task = getattr(importlib.import_module(module), function)
    assert task.name == name
    assert name in app.tasks


def test_photos_are_queued_on_images_before_their_avif_extras(monkeypatch):
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append((name, options)))
    enqueue_processing(photo_id=7)
    enqueue_avif(photo_id=7)
    assert [(name, options["args"], options["priority"]) for name, options in sent] == [
        ("apps.photos.tasks.process_photo", (7,), 6),
        ("apps.photos.tasks.encode_avif", (7,), 1),
    ]
    routes = [app.amqp.router.route({}, name)["queue"].name for name, _ in sent]
    assert routes == ["images", "images"]
