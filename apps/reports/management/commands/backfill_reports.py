"""``manage.py backfill_reports --start 2026-01-01 --end 2026-02-01``: compute past windows.

Every window of the chosen reports (all active ones by default) that holds a day of the range
is computed again from ``reporting`` and its stored rows replaced: safe to repeat. Runs here,
one window after the other, or with ``--enqueue`` as tasks on the ``reports`` queue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.reports.definitions import REGISTRY
from apps.reports.services.runs import report_backfill, report_sync_definitions


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Compute the reports' windows in a date range again (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", type=_date, help="first day (default: --days ago)")
        parser.add_argument("--end", type=_date, help="day after the last (default: today)")
        parser.add_argument("--days", type=int, default=30, help="without --start: how many")
        parser.add_argument(
            "--report", action="append", dest="keys", choices=sorted(REGISTRY), help="repeatable"
        )
        parser.add_argument("--enqueue", action="store_true", help="queue tasks instead")

    def handle(self, *args: Any, **options: Any) -> None:
        report_sync_definitions()
        end = options["end"] or timezone.now().date()
        start = options["start"] or end - dt.timedelta(days=options["days"])
        if start >= end:
            raise CommandError("--start must be before --end")
        result = report_backfill(
            start=start, end=end, keys=options["keys"], enqueue=options["enqueue"]
        )
        if options["verbosity"] > 1:
            for run in result.runs:
                self.stdout.write(
                    f"{run.report.key} {run.window_start}..{run.window_end}: "
                    f"{run.row_count} rows in {run.duration_ms} ms"
                )
        for failure in result.failures:
            self.stderr.write(f"FAILED {failure}")
        if options["enqueue"]:
            self.stdout.write(f"{result.queued} windows queued from {start} to {end}")
        else:
            self.stdout.write(f"{len(result.runs)} windows computed from {start} to {end}")
        if result.failures:
            raise CommandError(f"{len(result.failures)} windows failed; see the runs in the admin")
