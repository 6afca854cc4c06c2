"""Computing reports: one window at a time, idempotently, results stored on ``default``."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.common import queueing
from pinstablr.db.config import REPORTING

from ..definitions import REGISTRY, Grain, ReportDefinition, Window
from ..definitions.base import reporting
from ..models import Report, ReportRow, ReportRun
from ..readonly import statement_time_limit

logger = logging.getLogger(__name__)

# How far back a scheduled run catches up on windows it missed (beat or workers down).
CATCH_UP_WINDOWS = 35


class UnknownReport(LookupError):
    """A report row whose key no definition in code has (removed or renamed)."""


def definition_for(*, report: Report) -> ReportDefinition:
    """The code that computes ``report``."""
    try:
        return REGISTRY[report.key]
    except KeyError:
        raise UnknownReport(f"no definition for report {report.key!r}") from None


def report_sync_definitions() -> list[Report]:
    """Make sure every definition in code has its Report row and a schedule; return new ones.

    Existing rows and schedules are left as they are: names and timings edited in the admin
    stay edited.
    """
    created = []
    for definition in REGISTRY.values():
        report, made = Report.objects.get_or_create(
            key=definition.key,
            defaults={"name": definition.name, "description": definition.description},
        )
        if made:
            created.append(report)
        report_schedule_ensure(report=report, definition=definition)
    return created


def report_schedule_ensure(*, report: Report, definition: ReportDefinition) -> None:
    """A beat entry (django-celery-beat, editable in the admin) that runs ``report``."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    # Just after midnight UTC, when the day (or on Mondays, the week) is complete; weekly
    # reports a little later so the daily ones go first.
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="15" if definition.grain is Grain.DAY else "45",
        hour="0",
        day_of_week="*" if definition.grain is Grain.DAY else "1",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.get_or_create(
        name=f"report: {definition.key}",
        defaults={
            "task": "apps.reports.tasks.run_scheduled_report",
            "crontab": crontab,
            "kwargs": f'{{"key": "{definition.key}"}}',
            "queue": "reports",
            "description": f"Computes the newest complete window of {definition.name}.",
        },
    )


def _claim(report: Report, window: Window, trigger: str) -> ReportRun:
    run, _ = ReportRun.objects.get_or_create(
        report=report,
        window_start=window.start,
        window_end=window.end,
        defaults={"started_at": timezone.now(), "trigger": trigger},
    )
    ReportRun.objects.filter(pk=run.pk).update(
        status=ReportRun.Status.RUNNING,
        trigger=trigger,
        started_at=timezone.now(),
        finished_at=None,
        duration_ms=None,
        error="",
        attempts=F("attempts") + 1,
    )
    run.refresh_from_db()
    return run


def report_run(
    *, report: Report, window: Window, trigger: str = ReportRun.Trigger.MANUAL
) -> ReportRun:
    """Compute ``report`` over ``window`` from ``reporting`` and replace that window's rows.

    Idempotent: the run row is unique per window, and its rows are swapped in one transaction
    on ``default`` (the run row locked, so two deliveries of the same task cannot interleave).
    A failure is recorded on the run and raised again.
    """
    definition = definition_for(report=report)
    run = _claim(report, window, trigger)
    started = time.monotonic()
    try:
        with statement_time_limit(reporting(), settings.PINSTABLR_REPORT_STATEMENT_TIMEOUT_SECONDS):
            rows = definition.compute(window)
    except Exception as error:
        ReportRun.objects.filter(pk=run.pk).update(
            status=ReportRun.Status.FAILED,
            finished_at=timezone.now(),
            duration_ms=round((time.monotonic() - started) * 1000),
            error=f"{type(error).__name__}: {error}"[:2000],
        )
        logger.exception("report %s %s..%s failed", report.key, window.start, window.end)
        raise
    with transaction.atomic():
        ReportRun.objects.select_for_update().filter(pk=run.pk).get()
        ReportRow.objects.filter(report=report, day__gte=window.start, day__lt=window.end).delete()
        ReportRow.objects.bulk_create(
            [
                ReportRow(
                    report=report, run=run, day=row.day, dimension=row.dimension, values=row.values
                )
                for row in rows
            ],
            batch_size=500,
        )
        ReportRun.objects.filter(pk=run.pk).update(
            status=ReportRun.Status.SUCCEEDED,
            finished_at=timezone.now(),
            duration_ms=round((time.monotonic() - started) * 1000),
            row_count=len(rows),
        )
    run.refresh_from_db()
    logger.info(
        "report %s %s..%s: %d rows in %d ms",
        report.key, window.start, window.end, run.row_count, run.duration_ms,
    )  # fmt: skip
    return run


def windows_between(*, definition: ReportDefinition, start: dt.date, end: dt.date) -> list[Window]:
    """The report's windows that hold any day of ``[start, end)``, oldest first."""
    windows: list[Window] = []
    day = start
    while day < end:
        window = definition.window_for(day)
        windows.append(window)
        day = window.end
    return windows


def windows_due(*, report: Report, today: dt.date) -> list[Window]:
    """Complete windows up to ``today`` (exclusive) that have no successful run yet.

    The newest complete window always counts (so a scheduled run refreshes it); older
    missing ones are caught up, at most ``CATCH_UP_WINDOWS`` back.
    """
    definition = definition_for(report=report)
    newest = definition.window_for(today - dt.timedelta(days=1))
    if newest.end > today:  # the week is not over yet: the one before it
        newest = definition.window_for(newest.start - dt.timedelta(days=1))
    length = newest.end - newest.start
    oldest_start = newest.start - length * (CATCH_UP_WINDOWS - 1)
    done = set(
        ReportRun.objects.filter(
            report=report,
            status=ReportRun.Status.SUCCEEDED,
            window_start__gte=oldest_start,
            window_end__lte=newest.end,
        ).values_list("window_start", "window_end")
    )
    candidates = windows_between(definition=definition, start=oldest_start, end=newest.end)
    due = [w for w in candidates if (w.start, w.end) not in done]
    if newest not in due:
        due.append(newest)
    # Nothing older than the first sign-up: a new install does not compute months of zeros
    # (the newest window still runs, so its dashboards say how current they are).
    first = _first_day_with_data()
    return [w for w in due if w == newest or (first is not None and w.end > first)]


def _first_day_with_data() -> dt.date | None:
    from apps.accounts.models import User

    joined = (
        User.objects.using(REPORTING).order_by("date_joined").values_list("date_joined", flat=True)
    ).first()
    return joined.date() if joined else None


def report_run_due(*, report: Report, today: dt.date | None = None) -> list[ReportRun]:
    """Run every window of ``report`` that is due (see :func:`windows_due`), oldest first."""
    today = today or timezone.now().date()
    return [
        report_run(report=report, window=window, trigger=ReportRun.Trigger.SCHEDULE)
        for window in windows_due(report=report, today=today)
    ]


@dataclass
class Backfill:
    """What a backfill did: windows computed (or queued) and the ones that failed."""

    runs: list[ReportRun] = field(default_factory=list)
    queued: int = 0
    failures: list[str] = field(default_factory=list)


def report_backfill(
    *, start: dt.date, end: dt.date, keys: list[str] | None = None, enqueue: bool = False
) -> Backfill:
    """Compute every window of the chosen reports (all active ones by default) that holds a
    day of ``[start, end)``, replacing what was stored; or queue them on ``reports``.

    A failed window is recorded on its run and the others go on.
    """
    result = Backfill()
    reports = Report.objects.filter(key__in=keys) if keys else Report.objects.filter(is_active=True)
    for report in reports.order_by("key"):
        for window in windows_between(
            definition=definition_for(report=report), start=start, end=end
        ):
            if enqueue:
                queueing.enqueue(
                    "apps.reports.tasks.run_report_window",
                    report.pk,
                    window.start.isoformat(),
                    window.end.isoformat(),
                )
                result.queued += 1
                continue
            try:
                run = report_run(report=report, window=window, trigger=ReportRun.Trigger.BACKFILL)
            except Exception as error:
                result.failures.append(f"{report.key} {window.start}: {error}")
            else:
                result.runs.append(run)
    return result
