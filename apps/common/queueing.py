"""Queueing a Celery task by the name it is registered under.

The rule between tasks and services, one way only: a task module imports the services it
runs; a service never imports a task module (that would be an import cycle, late import or
not). A service that queues work names the task, ``"<app>.tasks.<function>"``, and
``CELERY_TASK_ROUTES`` sends it to its queue by that name, as beat's schedules do.
"""

from __future__ import annotations

from typing import Any

from celery import current_app


def enqueue(name: str, *args: Any, **options: Any) -> None:
    """Send the task registered as ``name`` to its queue; broker errors reach the caller."""
    current_app.send_task(name, args=args, ignore_result=True, **options)
