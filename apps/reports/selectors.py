"""Reads of the reports app: dashboards, freshness and exports, all from the stored rollups.

Nothing here reads production data: dashboards cost a row per day (and per rank or cohort)
whatever the number of events behind them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from apps.common.users import is_active_user
from pinstablr.db.config import PRIMARY

from .definitions import REGISTRY, Column, Grain, Layout, ReportDefinition
from .models import QueryRun, Report, ReportRow, ReportRun, SavedQuery
from .permissions import CONSOLE_PERMISSIONS, can_run_console, may_see_reports

PERIODS = (1, 7, 30)
# A dashboard and the API serve at most this many days at once; a CSV export streams any range.
MAX_RANGE_DAYS = 731
DEFAULT_RANGE_DAYS = 30


@dataclass(frozen=True)
class Freshness:
    """How current a report's stored data is."""

    data_until: dt.date | None  # the end (exclusive) of the newest successful window
    computed_at: dt.datetime | None  # when that run finished
    stale: bool
    last_failure: str = ""

    @property
    def as_of(self) -> dt.datetime | None:
        """The data covers events before this moment."""
        if self.data_until is None:
            return None
        return dt.datetime.combine(self.data_until, dt.time.min, tzinfo=dt.UTC)


def _stale(definition: ReportDefinition, data_until: dt.date | None, now: dt.datetime) -> bool:
    if data_until is None:
        return True
    length = dt.timedelta(weeks=1) if definition.grain is Grain.WEEK else dt.timedelta(days=1)
    grace = dt.timedelta(hours=settings.PINSTABLR_REPORT_STALE_GRACE_HOURS)
    # The next window should have been computed by then.
    return now > dt.datetime.combine(data_until, dt.time.min, tzinfo=dt.UTC) + length + grace


def report_freshness_map(
    *, reports: Iterable[Report], now: dt.datetime | None = None
) -> dict[int, Freshness]:
    """Freshness of each report, in two queries whatever the number of reports."""
    now = now or timezone.now()
    reports = list(reports)
    ids = [r.pk for r in reports]
    latest = {
        row["report_id"]: row
        for row in ReportRun.objects.filter(report_id__in=ids, status=ReportRun.Status.SUCCEEDED)
        .values("report_id")
        .annotate(until=Max("window_end"), finished=Max("finished_at"))
    }
    failures = {
        row["report_id"]: row["finished"]
        for row in ReportRun.objects.filter(report_id__in=ids, status=ReportRun.Status.FAILED)
        .values("report_id")
        .annotate(finished=Max("finished_at"))
    }
    result = {}
    for report in reports:
        row: dict[str, Any] = dict(latest.get(report.pk) or {})
        definition = REGISTRY.get(report.key)
        until = row.get("until")
        failed_at = failures.get(report.pk)
        recent_failure = bool(failed_at and (not row or failed_at > row["finished"]))
        result[report.pk] = Freshness(
            data_until=until,
            computed_at=row.get("finished"),
            stale=_stale(definition, until, now) if definition else True,
            last_failure="The latest run failed, so the newest days may be missing."
            if recent_failure
            else "",
        )
    return result


def report_freshness(*, report: Report, now: dt.datetime | None = None) -> Freshness:
    """How current ``report``'s data is (see :func:`report_freshness_map`)."""
    return report_freshness_map(reports=[report], now=now)[report.pk]


def report_default_end(*, data_until: dt.date | None) -> dt.date:
    """The last day with data: the day before the newest window's end, else yesterday."""
    return (data_until or timezone.now().date()) - dt.timedelta(days=1)


def report_range_resolve(
    *, start: dt.date | None, end: dt.date | None, default_end: dt.date, limited: bool = True
) -> tuple[dt.date, dt.date]:
    """The range asked for, both days included, with the defaults filled in.

    ValidationError if it runs backwards or (when ``limited``) covers more than
    ``MAX_RANGE_DAYS`` days.
    """
    end = end or default_end
    start = start or end - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise ValidationError("The range must start on or before its last day.", code="backwards")
    if limited and (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationError(
            f"Show at most {MAX_RANGE_DAYS} days at once; export CSV for longer ranges.",
            code="too_long",
        )
    return start, end


def report_rows(*, report: Report, start: dt.date, end: dt.date) -> QuerySet[ReportRow]:
    """Stored rows of ``report`` for days in ``[start, end]``, in order."""
    return ReportRow.objects.filter(report=report, day__gte=start, day__lte=end).order_by(
        "day", "dimension"
    )


@dataclass
class Dashboard:
    """Everything a dashboard page shows, computed from at most a few hundred stored rows."""

    definition: ReportDefinition
    columns: tuple[Column, ...]
    table: list[dict[str, Any]]  # rows as shown: "day" (or cohort) plus the column values
    chart: dict[str, Any]  # Chart.js type, labels and datasets
    missing_days: int = 0
    period: int | None = None
    leaderboard_day: dt.date | None = None


def report_dashboard(*, report: Report, start: dt.date, end: dt.date, period: int = 7) -> Dashboard:
    """The dashboard of ``report`` for the days ``start``..``end`` (both included)."""
    definition = REGISTRY[report.key]
    if definition.layout is Layout.LEADERBOARD:
        return _leaderboard(report, definition, end, period)
    if definition.layout is Layout.COHORTS:
        return _cohorts(report, definition, start, end)
    return _series(report, definition, start, end)


def _series(
    report: Report, definition: ReportDefinition, start: dt.date, end: dt.date
) -> Dashboard:
    stored = {row.day: row.values for row in report_rows(report=report, start=start, end=end)}
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    table = [{"day": day, "computed": day in stored, **stored.get(day, {})} for day in days]
    labels = {column.key: column.label for column in definition.columns}
    chart = {
        "type": definition.chart_type,
        "labels": [day.isoformat() for day in days],
        # None where a day was not computed: a gap in the line, never a made-up zero.
        "datasets": [
            {"label": labels[key], "data": [stored.get(day, {}).get(key) for day in days]}
            for key in definition.chart_series
        ],
    }
    return Dashboard(
        definition=definition,
        columns=definition.columns,
        table=table,
        chart=chart,
        missing_days=sum(1 for row in table if not row["computed"]),
    )


def _leaderboard(
    report: Report, definition: ReportDefinition, day: dt.date, period: int
) -> Dashboard:
    period = period if period in PERIODS else 7
    rows = [
        row.values
        for row in ReportRow.objects.filter(
            report=report, day=day, dimension__startswith=f"{period}d:"
        ).order_by("dimension")
    ]
    name_key = "username" if report.key == "top_creators" else "caption"

    def label(values: dict[str, Any]) -> str:
        if name_key == "caption":
            return f"#{values.get('photo_id')} {values.get('caption') or ''}".strip()[:40]
        return str(values.get("username") or f"user {values.get('user_id')}")

    columns = tuple(c for c in definition.columns if c.key != "period")
    chart = {
        "type": "bar",
        "indexAxis": "y",
        "labels": [label(values) for values in rows[:10]],
        "datasets": [
            {"label": "Likes", "data": [values["likes"] for values in rows[:10]]},
            {"label": "Comments", "data": [values["comments"] for values in rows[:10]]},
        ],
        "stacked": True,
    }
    return Dashboard(
        definition=definition,
        columns=columns,
        table=rows,
        chart=chart,
        missing_days=0 if rows else 1,
        period=period,
        leaderboard_day=day,
    )


def _cohorts(
    report: Report, definition: ReportDefinition, start: dt.date, end: dt.date
) -> Dashboard:
    """Cohorts that signed up between ``start`` and ``end``, with their weekly retention."""
    first = start - dt.timedelta(days=start.weekday())
    rows = ReportRow.objects.filter(
        report=report, dimension__gte=first.isoformat(), dimension__lte=end.isoformat()
    ).order_by("dimension", "day")
    cohorts: dict[str, dict[str, Any]] = {}
    weeks = 0
    for row in rows:
        values = row.values
        cohort = cohorts.setdefault(
            values["cohort"], {"cohort": values["cohort"], "size": values["size"], "weeks": {}}
        )
        cohort["weeks"][values["week"]] = values["retained"]
        weeks = max(weeks, values["week"] + 1)
    table = [
        {**c, "cells": [c["weeks"].get(week) for week in range(weeks)]} for c in cohorts.values()
    ]
    chart = {
        "type": "line",
        "labels": [f"Week {week}" for week in range(weeks)],
        "datasets": [
            {
                "label": f"Week of {c['cohort']}",
                "data": [None if v is None else round(v * 100, 1) for v in c["cells"]],
            }
            for c in table
        ],
        "percent": True,
    }
    return Dashboard(
        definition=definition,
        columns=definition.columns,
        table=table,
        chart=chart,
        missing_days=0 if table else 1,
    )


def report_export_rows(
    *, report: Report, start: dt.date, end: dt.date
) -> tuple[int, Iterator[list[Any]]]:
    """Every stored row of the range for a CSV: its count, then the rows, streamed.

    The count comes first so that the response can announce it: a client can tell a complete
    file from a cut one.
    """
    definition = REGISTRY[report.key]
    rows = report_rows(report=report, start=start, end=end)
    count = rows.count()
    keys = [column.key for column in definition.columns]

    def generate() -> Iterator[list[Any]]:
        for day, dimension, values in rows.values_list("day", "dimension", "values").iterator(
            chunk_size=2000
        ):
            yield [day.isoformat(), dimension, *(values.get(key) for key in keys)]

    return count, generate()


def query_runs_for(*, query: SavedQuery, limit: int = 20) -> QuerySet[QueryRun]:
    """The latest runs of a saved query, newest first."""
    return QueryRun.objects.filter(saved_query=query).select_related("user")[:limit]


# --- what a user may see (the rules are in permissions.py) ---------------------------------


def reports_for_user(*, user: Any) -> QuerySet[Report]:
    """Reports ``user`` may see, as one lazy query (no per-report permission checks)."""
    if not may_see_reports(user):
        return Report.objects.none()
    if user.is_superuser:
        return Report.objects.all()
    # On the primary: the grants are joined in, and a revoked one must stop working at once.
    return get_objects_for_user(
        user, "reports.view_report", klass=Report.objects.using(PRIMARY), accept_global_perms=False
    )


def report_get_for_user(*, user: Any, key: str) -> Report:
    """The report ``key`` if ``user`` may see it; 404 otherwise (also when it exists)."""
    report = reports_for_user(user=user).filter(key=key).first()
    if report is None:
        raise Http404("No such report.")
    return report


def saved_queries_for_user(*, user: Any) -> QuerySet[SavedQuery]:
    """Saved queries ``user`` owns or that were shared with them (or their group)."""
    if not is_active_user(user):
        return SavedQuery.objects.none()
    if user.is_superuser:
        return SavedQuery.objects.all()
    if not user.has_perm("reports.view_savedquery"):
        return SavedQuery.objects.none()
    queries = SavedQuery.objects.using(PRIMARY)  # as for reports: never a stale grant
    shared = get_objects_for_user(
        user, "reports.view_savedquery", klass=queries, accept_global_perms=False
    )
    return queries.filter(Q(owner=user) | Q(pk__in=shared.values("pk")))


def saved_query_get_for_user(*, user: Any, query_id: int) -> SavedQuery:
    """The saved query if ``user`` may see it; 404 otherwise."""
    query = saved_queries_for_user(user=user).select_related("owner").filter(pk=query_id).first()
    if query is None:
        raise Http404("No such saved query.")
    return query


def console_targets_for_user(*, user: Any) -> list[str]:
    """The console targets ``user`` may query, in a stable order."""
    return [target for target in CONSOLE_PERMISSIONS if can_run_console(user, target)]
