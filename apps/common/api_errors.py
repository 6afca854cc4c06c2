"""One error shape for every 4xx the API returns.

    {"error": {"status": 400, "code": "file_too_large", "message": "...",
               "fields": {"image": ["..."]}}}

``message`` is always a sentence a person can read; ``fields`` (validation errors only)
says which input was wrong; ``code`` is stable for programs.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    schema,
)
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler


def _first(detail: Any) -> str:
    """The first leaf of DRF's nested error details (or of their codes)."""
    while isinstance(detail, dict | list) and detail:
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Django's own 404 and 403 (from selectors and get_object_or_404) become DRF's.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    error: dict[str, Any] = {
        "status": response.status_code,
        "code": _first(exc.get_codes()),
        "message": _first(exc.detail),
    }
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, dict):
        error["fields"] = exc.detail
        if "non_field_errors" in exc.detail and len(exc.detail) == 1:
            del error["fields"]
    response.data = {"error": error}
    return response


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([AllowAny])
@authentication_classes([])
@schema(None)
def api_not_found(request: Request) -> Response:
    """Any unknown path under /api/v1/."""
    raise exceptions.NotFound("There is no such API endpoint.")
