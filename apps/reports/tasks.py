"""Report tasks: ids in, a service call. CELERY_TASK_ROUTES sends them to the ``reports`` queue."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from .definitions import Window
from .models import Report, ReportRun
from .services.runs import report_run, report_run_due

# Long enough for a 30-day leaderboard on a big replica; the statements themselves are also
# limited on the server (PINSTABLR_REPORT_STATEMENT_TIMEOUT_SECONDS).
LIMITS = {
    "soft_time_limit": settings.PINSTABLR_REPORT_STATEMENT_TIMEOUT_SECONDS * 4,
    "time_limit": settings.PINSTABLR_REPORT_STATEMENT_TIMEOUT_SECONDS * 4 + 60,
}


@shared_task(
    acks_late=True, autoretry_for=(OperationalError,), retry_backoff=30,
    max_retries=3, **LIMITS,
)  # fmt: skip
def run_scheduled_report(key: str) -> None:
    """Beat's entry point: compute the due windows of one report (idempotent per window)."""
    report = Report.objects.filter(key=key, is_active=True).first()
    if report is not None:
        report_run_due(report=report)


@shared_task(
    acks_late=True, autoretry_for=(OperationalError,), retry_backoff=30,
    max_retries=3, **LIMITS,
)  # fmt: skip
def run_report_window(report_id: int, start: str, end: str, trigger: str = "backfill") -> None:
    """Compute one window of one report (backfills enqueue these)."""
    report = Report.objects.get(pk=report_id)
    window = Window(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    report_run(report=report, window=window, trigger=ReportRun.Trigger(trigger))
