"""Per-request read routing: a fresh state per request, replica failover for safe requests."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from . import consistency
from . import state as routing
from .replicas import get_pool

logger = logging.getLogger(__name__)


class ReadRoutingMiddleware:
    """Owns the routing state of each request.

    If a replica fails in the middle of a request that has written nothing, the replica is
    taken out and the view runs once more against the primary: a replica outage costs that
    request some latency, never an error page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = routing.begin(consistency.state_for(request))
        try:
            response = self.get_response(request)
            consistency.remember_write(routing.current(), response)
            return response
        finally:
            routing.end(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        state = routing.current()
        failed = state.failed_replicas
        if (
            not failed
            or state.wrote
            or not isinstance(exception, OperationalError | InterfaceError)
        ):
            return None
        if getattr(request, "_pinstablr_retried", False) or request.resolver_match is None:
            return None
        pool = get_pool()
        for alias in failed:
            pool.mark_down(alias, exception)
        state.chosen_replica = None
        request._pinstablr_retried = True  # type: ignore[attr-defined]
        logger.warning("retrying %s %s after replica failure", request.method, request.path)
        match = request.resolver_match
        response = match.func(request, *match.args, **match.kwargs)
        render = getattr(response, "render", None)
        if callable(render) and not getattr(response, "is_rendered", True):
            response = render()
        return response
