"""Every request gets an id: the proxy's when it is trusted and well-formed, else a new one.

The id is returned in the ``X-Request-ID`` response header, set on every log line written
while the request is served (see :mod:`pinstablr.observability.logs`) and carried into the
Celery tasks the request enqueues (:mod:`pinstablr.observability.celery_hooks`). When the
request is done, one line says what it was: method, path, status and duration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .context import is_valid_request_id, new_request_id, request_id_var

HEADER = "X-Request-ID"
# Probes and scrapes come every few seconds from every kubelet and Prometheus: their
# successful answers are logged at DEBUG only.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

logger = logging.getLogger("pinstablr.request")


def trusted_proxies() -> int:
    """How many proxies of ours stand in front (the rule DRF's throttles follow too)."""
    return int(settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0)


def request_id_for(request: HttpRequest) -> str:
    """The proxy's id if a proxy of ours sits in front and the id is well-formed."""
    if trusted_proxies() > 0:
        # Without a proxy of ours, the header is whatever the client chose to send.
        incoming = request.headers.get(HEADER, "")
        if is_valid_request_id(incoming):
            return incoming
    return new_request_id()


class RequestIdMiddleware:
    """Names each request, answers with its id and logs one line when it is done."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            log_request(request, response, seconds=time.perf_counter() - started)
            return response
        finally:
            request_id_var.reset(token)


def log_request(request: HttpRequest, response: HttpResponse, *, seconds: float) -> None:
    """The request's line: what it asked for, how it ended, how long it took."""
    status = response.status_code
    if status >= 500:
        level = logging.WARNING
    elif request.path in QUIET_PATHS and status < 400:
        level = logging.DEBUG
    else:
        level = logging.INFO
    duration_ms = round(seconds * 1000, 1)
    logger.log(
        level,
        "%s %s %s %sms",
        request.method,
        request.path,
        status,
        duration_ms,
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": duration_ms,
        },
    )
