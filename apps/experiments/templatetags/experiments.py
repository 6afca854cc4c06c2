"""``{% variant "home-feed-layout" as layout %}`` then ``{% if layout.key == "list" %}``."""

from __future__ import annotations

from typing import Any

from django import template

from ..assignment import Assignment, control_for, variant_for

register = template.Library()


@register.simple_tag(takes_context=True)
def variant(context: dict[str, Any], key: str, default: str = "control") -> Assignment:
    """The variant of ``key`` for this page's viewer, logged as exposed.

    Signed-out visitors always get the control here: a page rendered for them may be served
    from the shared page cache to every other visitor, so one visitor's variant must never be
    baked into it. Pages for signed-out visitors assign in the browser, through the JS client
    and ``/api/v1/experiments/assignments/``.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return control_for(key, default=default)
    return variant_for(request, key, default=default)


@register.filter
def percent(value: float | None, digits: int = 2) -> str:
    """0.1234 -> "12.34%"; nothing known -> "-"."""
    if value is None:
        return "-"
    return f"{value * 100:.{digits}f}%"


@register.filter
def signed_percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.2f}%"


@register.filter
def interval(bounds: list[float] | None, kind: str = "percent") -> str:
    """A confidence interval: [+0.50%, +2.10%] (or plain numbers for means)."""
    if not bounds:
        return "-"
    if kind == "percent":
        return f"[{bounds[0] * 100:+.2f}%, {bounds[1] * 100:+.2f}%]"
    return f"[{bounds[0]:+.4g}, {bounds[1]:+.4g}]"


@register.filter
def p_value(value: float | None) -> str:
    if value is None:
        return "-"
    return "< 0.0001" if value < 0.0001 else f"{value:.4f}"
