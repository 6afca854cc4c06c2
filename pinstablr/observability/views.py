"""``/metrics``: Prometheus' view of a web server (see permissions for who may read it)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import CONTENT_TYPE_LATEST

from .metrics import web_metrics
from .permissions import operations_visible


# Exempt from CSRF (it changes nothing) so that whoever may not read it gets the same 404
# for every method, instead of a CSRF 403 that would show the route exists.
@csrf_exempt
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Metrics in Prometheus' text format, or the 404 of a page that does not exist."""
    if not operations_visible(request=request):
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(web_metrics(), content_type=CONTENT_TYPE_LATEST)
