"""Celery: the request id travels with the tasks a request enqueues; task metrics.

Publishing (web or worker): the current request id goes into the message headers.
Running (worker): the task's log lines carry that id, or a new one for a task nobody's
request sent (beat); when it ends, its duration is recorded by task name and final state.

A worker with ``PINSTABLR_WORKER_METRICS_PORT`` serves its metrics over HTTP on that port
(bearer token as for the web's ``/metrics``), adding up every pool process's metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from contextvars import Token
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from celery import signals
from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST

from .context import (
    TaskInfo,
    current_request_id,
    is_valid_request_id,
    new_request_id,
    request_id_var,
    task_var,
)
from .metrics import TASK_DURATION, process_metrics
from .permissions import bearer_token, metrics_token_matches

HEADER = "pinstablr_request_id"

logger = logging.getLogger(__name__)


@dataclass
class _TaskScope:
    request_token: Token[str | None]
    task_token: Token[TaskInfo | None]
    started: float


_scopes: dict[str, _TaskScope] = {}


def stamp_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """before_task_publish: the id of the request (or task) that sends this one."""
    request_id = current_request_id()
    if headers is not None and request_id and HEADER not in headers:
        headers[HEADER] = request_id


def enter_task(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """task_prerun: take on the sender's request id and start the clock."""
    if task_id is None or task is None:
        return
    # A worker puts custom message headers on the request itself; apply() under "headers".
    sent = getattr(task.request, HEADER, None) or (task.request.headers or {}).get(HEADER)
    # Run eagerly (tests, or apply()), the task is inside its caller's request already.
    request_id = sent if is_valid_request_id(sent) else current_request_id() or new_request_id()
    _scopes[task_id] = _TaskScope(
        request_token=request_id_var.set(request_id),
        task_token=task_var.set(TaskInfo(id=task_id, name=task.name)),
        started=time.perf_counter(),
    )


def leave_task(
    task_id: str | None = None, task: Any = None, state: str | None = None, **kwargs: Any
) -> None:
    """task_postrun: record the duration and forget the request id."""
    scope = _scopes.pop(task_id, None) if task_id is not None else None
    if scope is None:
        return
    TASK_DURATION.labels(task=task.name, state=state or "UNKNOWN").observe(
        time.perf_counter() - scope.started
    )
    task_var.reset(scope.task_token)
    request_id_var.reset(scope.request_token)


# --- the worker's metrics port ---------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds are not worth a log line each."""


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def metrics_app(*, token: str) -> Any:
    """A WSGI app answering ``GET /metrics`` with the token, 404 to everything else."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        presented = bearer_token(environ.get("HTTP_AUTHORIZATION"))
        if environ.get("PATH_INFO") != "/metrics" or not metrics_token_matches(
            presented=presented, expected=token
        ):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found\n"]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [process_metrics()]

    return app


def serve_metrics(*, address: str, port: int, token: str) -> WSGIServer:
    """Serve :func:`metrics_app` on ``address:port`` from a daemon thread."""
    server = make_server(
        address, port, metrics_app(token=token), _ThreadingWSGIServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server


def start_worker_metrics(**kwargs: Any) -> None:
    """worker_init (the worker's main process, before its pool starts): open the port."""
    port = settings.PINSTABLR_WORKER_METRICS_PORT
    if not port:
        return
    if not settings.PINSTABLR_METRICS_TOKEN:
        logger.warning("PINSTABLR_WORKER_METRICS_PORT is set but PINSTABLR_METRICS_TOKEN is not: "
                       "worker metrics are not served")  # fmt: skip
        return
    address = settings.PINSTABLR_WORKER_METRICS_ADDRESS
    serve_metrics(address=address, port=port, token=settings.PINSTABLR_METRICS_TOKEN)
    logger.info("worker metrics on %s:%s/metrics", address, port)


def connect() -> None:
    signals.before_task_publish.connect(stamp_request_id, dispatch_uid="pinstablr.obs.publish")
    signals.task_prerun.connect(enter_task, dispatch_uid="pinstablr.obs.task_start")
    signals.task_postrun.connect(leave_task, dispatch_uid="pinstablr.obs.task_end")
    signals.worker_init.connect(start_worker_metrics, dispatch_uid="pinstablr.obs.worker_init")
