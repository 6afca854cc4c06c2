"""Per request: the unit cookie of signed-out visitors, and exposures handed to the buffer."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

from . import buffer
from .assignment import (
    STATE_ATTR,
    UNIT_COOKIE,
    UNIT_COOKIE_MAX_AGE,
    UNIT_COOKIE_SALT,
    RequestExperiments,
)


class ExperimentsMiddleware:
    """Sets the anonymous unit cookie only when an assignment needed one (cached pages never
    do), and queues the request's exposures and events once its response is ready."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        state: RequestExperiments | None = getattr(request, STATE_ATTR, None)
        if state is None:
            return response
        if state.new_anonymous_id and state.anonymous_id:
            response.set_signed_cookie(
                UNIT_COOKIE,
                state.anonymous_id,
                salt=UNIT_COOKIE_SALT,
                max_age=UNIT_COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        if any(a.in_experiment or a.forced for a in state.assignments.values()):
            # The response depends on who asked: no shared cache may keep it.
            patch_vary_headers(response, ["Cookie"])
            patch_cache_control(response, private=True)
        buffer.record(state.exposures, state.events)
        return response
