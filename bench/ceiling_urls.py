"""The app's URLs plus ``/bench/ceiling``: a bare Django JSON view, the framework ceiling.

It runs through the same WSGI handler and middleware as every app page, but touches no
database, no cache and no DRF: what the server and Django cost on their own.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from pinstablr.urls import urlpatterns as app_urlpatterns


def ceiling(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True, "path": request.path})


urlpatterns = [path("bench/ceiling", ceiling, name="bench-ceiling"), *app_urlpatterns]
