from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from pinstablr.db.inspect import inspect_topology
from pinstablr.health import readiness


@never_cache
@login_required
@permission_required("teams.view_operations", raise_exception=True)
def operations(request: HttpRequest) -> HttpResponse:
    """Ops' view of production: every database with its lag, and what readiness reports."""
    status, checks = readiness()
    context = {"topology": inspect_topology(), "status": status, "checks": checks}
    return render(request, "teams/operations.html", context)
