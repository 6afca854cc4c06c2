"""Reports for marketing: definitions, their runs, daily rollups, saved queries and the run log.

Everything here lives on ``default``. Production data is only ever *read*, through the
``reporting`` alias, by the definitions in ``definitions.py``; what they compute is stored
here, a row per day (and per dimension), so dashboards never touch the events themselves.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from apps.common.models import TimeStampedModel


class Report(TimeStampedModel):
    """One report definition, named by ``key`` in ``apps.reports.definitions.REGISTRY``.

    The row exists so that permissions can be granted per report (django-guardian) and
    schedules and runs can refer to it; how it is computed lives in code.
    """

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # Scheduled runs skip an inactive report; its stored results stay readable.
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReportRun(models.Model):
    """One computation of a report over a data window ``[window_start, window_end)`` (UTC days).

    Unique per report and window: running the same window again replaces its rows and updates
    this row, so a retried or repeated task never doubles anything.
    """

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"
        BACKFILL = "backfill"
        MANUAL = "manual"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="runs")
    window_start = models.DateField()
    window_end = models.DateField(help_text="Exclusive.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULE)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # How many times this window was computed (retries, re-runs, backfills).
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-window_start", "report_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "window_start", "window_end"], name="report_run_once_per_window"
            ),
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")),
                name="report_run_window_not_empty",
            ),
        ]
        indexes = [models.Index(fields=["report", "status", "-finished_at"])]

    def __str__(self) -> str:
        return f"{self.report_id} {self.window_start}..{self.window_end} ({self.status})"


class ReportRow(models.Model):
    """A rollup row: one report's numbers for one day (and one dimension, e.g. a rank).

    Dashboards and CSV exports read only these: their cost follows the number of days shown,
    never the number of events behind them.
    """

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="rows")
    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="rows")
    day = models.DateField()
    # "" for one row per day; otherwise what splits the day (e.g. "7d:01" or a cohort week).
    dimension = models.CharField(max_length=64, blank=True, default="")
    values = models.JSONField()

    class Meta:
        ordering = ["day", "dimension"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "day", "dimension"], name="report_row_once_per_day_dimension"
            )
        ]

    def __str__(self) -> str:
        return f"{self.report_id} {self.day} {self.dimension}".rstrip()


class SavedQuery(TimeStampedModel):
    """A console query kept under a title, owned by its author and shared per object."""

    class Target(models.TextChoices):
        REPORTING = "reporting", "Reporting replica"
        EXPERIMENTS_READ = "experiments_read", "Experiments analysis replica"
        EXPERIMENTS = "experiments", "Experiments database (read-only)"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_queries"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    target = models.CharField(max_length=32, choices=Target.choices, default=Target.REPORTING)
    sql = models.TextField()

    class Meta:
        ordering = ["title", "id"]
        verbose_name_plural = "saved queries"
        permissions = [
            ("use_query_console", "Can run read-only queries on the reporting replica"),
            # Sharing results does not have to share the query: its SQL can hold a client's
            # name or a campaign not yet announced. Owners always see their SQL.
            ("view_savedquery_sql", "Can see the SQL of a saved query"),
        ]

    def __str__(self) -> str:
        return self.title


class QueryRun(models.Model):
    """The log of every console run: who ran what, where, how long, how many rows, what failed."""

    class Status(models.TextChoices):
        OK = "ok"
        TRUNCATED = "truncated"
        REFUSED = "refused"
        TIMEOUT = "timeout"
        ERROR = "error"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="query_runs"
    )
    saved_query = models.ForeignKey(
        SavedQuery, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    target = models.CharField(max_length=32)
    sql = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices)
    started_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    row_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"query run {self.pk} by {self.user_id} ({self.status})"


# Per-object grants with direct foreign keys: guardian joins them by id, which keeps
# "which reports may this user see" one indexed query instead of a generic-key scan.
class ReportUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Report, on_delete=models.CASCADE)


class ReportGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Report, on_delete=models.CASCADE)


class SavedQueryUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(SavedQuery, on_delete=models.CASCADE)


class SavedQueryGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(SavedQuery, on_delete=models.CASCADE)
