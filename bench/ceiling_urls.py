"""The app's URLs plus ``/bench/ceiling``: a bare Django JSON view, the framework ceiling.

It runs through the same WSGI handler and middleware as every app page, but touches no
database, no cache and no DRF: what the server and Django cost on their own.
``/bench/ceiling-page`` is the same view sending a body the size of a page of 24 photos
(51 KB), to tell what the page's size costs from what the app does to make it.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from pinstablr.urls import urlpatterns as app_urlpatterns


def ceiling(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True, "path": request.path})


PAGE_SIZED_BODY = b'{"ok": true, "padding": "' + b"x" * 51_680 + b'"}'


def ceiling_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE_SIZED_BODY, content_type="application/json")


urlpatterns = [
    path("bench/ceiling", ceiling, name="bench-ceiling"),
    path("bench/ceiling-page", ceiling_page, name="bench-ceiling-page"),
    *app_urlpatterns,
]
