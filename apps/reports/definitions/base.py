"""What a report definition is, the registry of them, and helpers for reading ``reporting``.

A definition turns a data window into rows: ``compute(window)`` runs database aggregates on
the ``reporting`` alias only (never ``default`` or a replica: marketing's load must not reach
the databases serving the site) and returns a few rows per day, which the runner stores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from pinstablr.db.config import REPORTING

UTC = dt.UTC


class Grain(StrEnum):
    """How long one run's window is: a day, or an ISO week starting on Monday."""

    DAY = "day"
    WEEK = "week"


class Layout(StrEnum):
    """How a dashboard shows the rows."""

    SERIES = "series"  # one row per day: a line or bar chart over the range and a table
    LEADERBOARD = "leaderboard"  # ranked rows per day and period: bars for one day
    COHORTS = "cohorts"  # a row per cohort and week: a retention triangle


@dataclass(frozen=True)
class Column:
    """One value of a row, as shown in tables, charts and CSV headers."""

    key: str
    label: str
    kind: str = "int"  # int, float, seconds, percent, text, date


@dataclass(frozen=True)
class Window:
    """A data window of whole UTC days, ``[start, end)``."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty window {self.start}..{self.end}")

    @property
    def days(self) -> list[dt.date]:
        """Every day of the window, in order."""
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days)]


@dataclass(frozen=True)
class ResultRow:
    """One computed rollup row."""

    day: dt.date
    values: dict[str, Any]
    dimension: str = ""


@dataclass(frozen=True)
class ReportDefinition:
    """A report: its name and columns for people, its grain, and how to compute a window."""

    key: str
    name: str
    description: str
    grain: Grain
    layout: Layout
    columns: tuple[Column, ...]
    compute: Callable[[Window], list[ResultRow]]
    # Columns drawn in the chart (keys of ``columns``), and the chart's kind.
    chart_series: tuple[str, ...] = ()
    chart_type: str = "line"
    notes: tuple[str, ...] = field(default_factory=tuple)

    def window_for(self, day: dt.date) -> Window:
        """The window of this report's grain that contains ``day``."""
        if self.grain is Grain.WEEK:
            monday = day - dt.timedelta(days=day.weekday())
            return Window(monday, monday + dt.timedelta(days=7))
        return Window(day, day + dt.timedelta(days=1))


REGISTRY: dict[str, ReportDefinition] = {}


def register(definition: ReportDefinition) -> ReportDefinition:
    """Add ``definition`` to the registry; keys are unique."""
    if definition.key in REGISTRY:
        raise ValueError(f"report {definition.key!r} is defined twice")
    REGISTRY[definition.key] = definition
    return definition


def reporting() -> BaseDatabaseWrapper:
    """The connection every definition reads production data through."""
    return connections[REPORTING]


def start_of(day: dt.date) -> dt.datetime:
    """Midnight UTC at the start of ``day``."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=UTC)


def db_datetime(value: dt.datetime) -> Any:
    """``value`` as the reporting database stores datetimes, for raw SQL parameters."""
    return reporting().ops.adapt_datetimefield_value(value)


def qn(name: str) -> str:
    """A table or column name quoted for the reporting database."""
    return reporting().ops.quote_name(name)


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run one read on ``reporting`` and return its (few, aggregated) rows."""
    with reporting().cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


def ratio(numerator: float | int | None, denominator: float | int | None) -> float | None:
    """numerator / denominator rounded for people, None when there is nothing to divide by."""
    if not denominator or numerator is None:
        return None
    return round(numerator / denominator, 3)


def seconds(value: dt.timedelta | float | int | None) -> float | None:
    """A duration in seconds (3 decimals), whatever the backend returned."""
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return round(value.total_seconds(), 3)
    return round(float(value) / 1_000_000, 3)  # microseconds, as Django stores durations
