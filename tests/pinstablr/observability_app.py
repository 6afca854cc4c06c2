"""A task and a page that enqueues it, for the request id tests (never part of the site).

The worker started by those tests imports this module (``celery worker --include``).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.urls import path

from pinstablr.celery import app

logger = logging.getLogger("tests.observability")
LOG_LINE_TASK = "tests.observability.log_line"


@app.task(name=LOG_LINE_TASK)
def log_line(marker: str) -> None:
    """Writes one log line naming ``marker``, which the test looks for."""
    logger.warning("task says %s", marker)


@app.task(name="tests.observability.fail")
def fail() -> None:
    """Always fails, for the failure state of the duration histogram."""
    raise RuntimeError("failed on purpose")


def enqueue(request: HttpRequest) -> JsonResponse:
    """Sends the logging task to the queue named in the query string, like a service would."""
    marker = request.GET["marker"]
    logger.warning("page says %s", marker)
    app.send_task(LOG_LINE_TASK, args=[marker], queue=request.GET.get("queue") or None)
    return JsonResponse({"sent": marker})


def run_now(request: HttpRequest) -> JsonResponse:
    """Runs the logging task in this process (eagerly), inside the request."""
    log_line.apply(args=[request.GET["marker"]])
    return JsonResponse({"ran": True})


urlpatterns = [
    path("enqueue", enqueue),
    path("run-now", run_now),
]
