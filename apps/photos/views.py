"""Rendition files for the filesystem storage (production serves them from S3 or nginx)."""

from __future__ import annotations

import mimetypes
import re

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from . import storage

KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|webp|avif)$")


@require_GET
def rendition_file(request: HttpRequest, key: str) -> FileResponse:
    """An immutable rendition: cached for a year by browsers and CDNs, never sniffed."""
    if not KEY.match(key) or not storage.renditions().exists(key):
        raise Http404("No such file.")
    response = FileResponse(
        storage.renditions().open(key, "rb"), content_type=mimetypes.guess_type(key)[0]
    )
    response["Cache-Control"] = settings.RENDITION_CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
