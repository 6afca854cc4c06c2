"""The Content-Security-Policy every response carries (django-csp builds the header).

Scripts and styles come only from our own origin: no inline ``<script>``, no ``on...=``
handler, no ``style=`` attribute and no ``<style>`` block in any template we serve. A script
that an attacker manages to inject into a page, through a caption or a bug in a template, is
then refused by the browser instead of run with the visitor's session. Looks that depend on
the data (a photo's aspect ratio, colour and placeholder) travel as data attributes and are
applied by static/js/paint.js through the CSSOM, which the policy allows; so neither scripts
nor styles need ``'unsafe-inline'``.

Images also come from ``data:`` (placeholders, icons of the Swagger UI), ``blob:`` (local
previews) and, when photos are stored in S3, from wherever their rendition URLs point.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from csp.constants import NONE, SELF


def rendition_image_sources(
    *,
    media_storage: str,
    renditions_domain: str,
    endpoint_url: str,
    bucket: str,
    region: str,
) -> list[str]:
    """Where rendition images come from besides this site, as CSP sources.

    Mirrors how apps/photos/storage.py's ``renditions`` storage makes URLs (settings/base.py):
    on the filesystem they are ``/media/r/...`` on this site; on S3 they are
    ``https://<PINSTABLR_RENDITIONS_DOMAIN>/r/...`` when a CDN or public bucket serves them,
    and otherwise signed URLs on the endpoint, path-style (``<endpoint>/<bucket>/r/...``).
    Each source names the bucket's path, not the whole S3 host, which serves other people's
    buckets too.
    """
    if media_storage != "s3":
        return []
    if renditions_domain:
        return [f"https://{renditions_domain.strip('/')}/"]
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        return [f"{base}/{bucket}/"]
    # AWS itself: boto3 names the global or the regional endpoint.
    return [f"https://s3.amazonaws.com/{bucket}/", f"https://s3.{region}.amazonaws.com/{bucket}/"]


def content_security_policy(*, image_sources: list[str]) -> dict[str, Any]:
    """django-csp's ``CONTENT_SECURITY_POLICY`` setting."""
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF],
            "style-src": [SELF],
            "img-src": [SELF, "data:", "blob:", *image_sources],
            "object-src": [NONE],
            "base-uri": [SELF],
            "form-action": [SELF],
            # No page of ours may be framed (clickjacking); X-Frame-Options says it too.
            "frame-ancestors": [NONE],
        }
    }
