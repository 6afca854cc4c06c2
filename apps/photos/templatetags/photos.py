"""Template helpers for photos: <picture> with every format, placeholders, linked captions."""

from __future__ import annotations

import base64
import contextlib
import io
from functools import lru_cache

import thumbhash
from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from PIL import Image

from .. import storage
from ..captions import TOKEN
from ..models import Photo

register = template.Library()
# Browsers pick the first source they support: smallest files first.
FORMAT_ORDER = (("avif", "image/avif"), ("webp", "image/webp"), ("jpeg", "image/jpeg"))


@lru_cache(maxsize=4096)
def placeholder_data_url(hashed: str) -> str:
    """The ThumbHash as a tiny PNG data URL, shown blurred until the photo loads."""
    if not hashed:
        return ""
    # The library prints the aspect ratio while decoding; keep it out of the server's output.
    with contextlib.redirect_stdout(io.StringIO()):
        width, height, rgba = thumbhash.thumb_hash_to_rgba(list(base64.b64decode(hashed)))
    image = Image.frombytes("RGBA", (width, height), bytes(rgba))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@register.filter
def placeholder(photo: Photo) -> str:
    return placeholder_data_url(photo.placeholder)


@register.inclusion_tag("photos/_picture.html")
def picture(photo: Photo, sizes: str = "(min-width: 64rem) 30rem, 100vw", eager: bool = False):
    """<picture> with an AVIF, WebP and JPEG srcset each; the largest JPEG as the fallback."""
    by_format: dict[str, list] = {}
    for rendition in photo.renditions.all():  # prefetched by the selectors
        by_format.setdefault(rendition.format, []).append(rendition)
    sources = [
        {
            "type": mime,
            "srcset": ", ".join(
                f"{storage.rendition_url(photo, r)} {r.width}w" for r in by_format[fmt]
            ),
        }
        for fmt, mime in FORMAT_ORDER
        if by_format.get(fmt)
    ]
    jpegs = by_format.get("jpeg", [])
    fallback = storage.rendition_url(photo, jpegs[min(1, len(jpegs) - 1)]) if jpegs else ""
    return {
        "photo": photo,
        "sources": sources,
        "fallback": fallback,
        "sizes": sizes,
        "eager": eager,
        "alt": alt_text(photo),
    }


def alt_text(photo: Photo) -> str:
    caption = photo.caption.strip()
    return caption[:200] if caption else f"Photo by {photo.owner.get_username()}"


@register.filter
def linked_caption(caption: str) -> SafeString:
    """The caption, HTML-escaped, with #tags and @mentions as links."""
    parts: list[str] = []
    position = 0
    for match in TOKEN.finditer(caption):
        parts.append(str(escape(caption[position : match.start()])))
        if match.group("tag"):
            name = match.group("tag")
            url = reverse("photos:tag", args=[name.lower()])
            parts.append(str(format_html('<a href="{}" class="tag">#{}</a>', url, name)))
        else:
            name = match.group("mention")
            url = reverse("accounts:profile", args=[name])
            parts.append(str(format_html('<a href="{}">@{}</a>', url, name)))
        position = match.end()
    parts.append(str(escape(caption[position:])))
    return mark_safe("".join(parts))  # noqa: S308 - every piece is escaped or format_html
