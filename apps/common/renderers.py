"""Renderers of the REST API: JSON, and DRF's HTML view of it for people in a browser."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API without its one inline ``<style>`` block.

    With Pygments installed, DRF writes Pygments' colours (for code in Markdown view
    descriptions, which we do not write) into a ``<style>`` block that the
    Content-Security-Policy refuses; everything else on these pages comes from static files.
    (DRF's templates also put style attributes on a Filters button and an Extra Actions menu;
    no endpoint of ours shows them, and if one did, only their float would be refused.)
    """

    def get_context(
        self, data: Any, accepted_media_type: str | None, renderer_context: Mapping[str, Any]
    ) -> dict[str, Any]:
        context = super().get_context(data, accepted_media_type, renderer_context)
        context["code_style"] = None
        return context
