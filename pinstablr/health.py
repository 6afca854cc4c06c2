"""Health endpoints for load balancers and Kubernetes.

``/healthz`` says the process serves requests (liveness: restart me if this fails).
``/readyz`` says whether this server can take traffic (readiness): 503 when the primary or
the broker is unreachable, since nothing that writes can work; 200 with ``degraded`` when only
a replica or the cache is, since reads then fall back to the primary and the site is slower,
not broken.

Probes and load balancers need only the status code, and anyone can reach these URLs, so
the answer says only ``ok``, ``degraded`` or ``unavailable``. Which database, replica, cache
or broker failed, their lag and their errors (which can name hosts, accounts and versions)
go only to callers who may read the metrics: a scraper with the metrics token, or a
signed-in member of the ops team (pinstablr/observability/permissions.py).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from pinstablr.celery import app as celery_app
from pinstablr.db.config import PRIMARY
from pinstablr.db.inspect import inspect_alias
from pinstablr.db.replicas import get_pool
from pinstablr.observability.permissions import operations_visible

BROKER_TIMEOUT_SECONDS = 2.0


def _timed(check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = check()
    except Exception as error:
        result = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_primary() -> dict[str, Any]:
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_replica(alias: str) -> dict[str, Any]:
    report = inspect_alias(alias)
    result: dict[str, Any] = {"ok": report.reachable, "lag_seconds": report.lag_seconds}
    if report.error:
        result["error"] = report.error
    result["serving_reads"] = report.reachable and not get_pool().is_down(alias)
    return result


def check_cache() -> dict[str, Any]:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    ok = cache.get(key) == "1"
    cache.delete(key)
    return {"ok": ok} if ok else {"ok": False, "error": "cache did not return what was stored"}


def check_broker() -> dict[str, Any]:
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    return {"ok": True}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readiness() -> tuple[str, dict[str, Any]]:
    """``ok``, ``degraded`` or ``unavailable``, with the result of every check."""
    replicas = get_pool().aliases
    checks = {
        "primary": _timed(check_primary),
        "replicas": {alias: _timed(partial(check_replica, alias)) for alias in replicas},
        "cache": _timed(check_cache),
        "broker": _timed(check_broker),
    }
    essential_ok = checks["primary"]["ok"] and checks["broker"]["ok"]
    optional_ok = checks["cache"]["ok"] and all(r["ok"] for r in checks["replicas"].values())
    if not essential_ok:
        status = "unavailable"
    elif not optional_ok:
        status = "degraded"
    else:
        status = "ok"
    return status, checks


def readiness_detail_visible(request: HttpRequest) -> bool:
    """Whether the caller may see every check: the metrics token, or the ops team."""
    try:
        return operations_visible(request=request)
    except DatabaseError:
        # A signed-in caller while the primary is down: who they are cannot be read, so
        # they get the public answer (the status code still tells them what matters).
        return False


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    status, checks = readiness()
    body: dict[str, Any] = {"status": status}
    if readiness_detail_visible(request):
        body["checks"] = checks
    return JsonResponse(body, status=503 if status == "unavailable" else 200)
