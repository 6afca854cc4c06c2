"""Formatting of report values for tables: numbers for people, a dash for "no value"."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def report_cell(value: Any, kind: str = "int") -> str:
    """``value`` shown as its column's kind says; "—" when there is none."""
    if value is None or value == "":
        return "—"
    if kind == "percent":
        return f"{float(value) * 100:.1f}%"
    if kind == "seconds":
        return f"{float(value):,.1f} s"
    if kind == "float":
        return f"{float(value):,.2f}"
    if kind == "int" and isinstance(value, int | float):
        return f"{int(value):,}"
    return str(value)


@register.filter
def value_of(values: dict[str, Any], key: str) -> Any:
    """``values[key]`` in a template (None when missing)."""
    return values.get(key) if isinstance(values, dict) else None


@register.filter
def thousands(value: int) -> str:
    """1000 as "1,000"."""
    return f"{int(value):,}"
