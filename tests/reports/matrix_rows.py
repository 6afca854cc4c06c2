"""The reports app's rows of the permission matrix (tests/test_permission_matrix.py).

World: ``report`` (the sign-ups report, ``view_report`` granted to the ``marketing`` group),
``saved_query`` (owned by the ``marketing`` role's user, shared for viewing with the
``marketing`` group). Reports and saved queries a user may not see are 404; sections a user
has no part in (no team permission) are 403.
"""

from __future__ import annotations

from typing import Any

from tests.permission_rows import Row

PUBLIC: set[str] = set()

NOT_SIGNED_IN = {"anonymous": 302}
NO_TEAM = dict.fromkeys(("user", "owner", "author"), 403)
HIDDEN = dict.fromkeys(("user", "owner", "author", "marketing_ungranted", "ux_owner",
                        "ux_other", "ops"), 404)  # fmt: skip


def report(world: Any) -> dict[str, Any]:
    return {"key": world.report.key}


def saved_query(world: Any) -> dict[str, Any]:
    return {"query_id": world.saved_query.pk}


def visible_to_marketing(ok: int) -> dict[str, int]:
    return {**NOT_SIGNED_IN, **HIDDEN, "marketing": ok, "admin": ok}


ROWS = [
    Row("reports:index", "get", {
        **NOT_SIGNED_IN, **NO_TEAM, "marketing": 200, "marketing_ungranted": 200,
        "ux_owner": 200, "ux_other": 200, "ops": 403, "admin": 200,
    }),
    Row("reports:dashboard", "get", visible_to_marketing(200), kwargs=report),
    Row("reports:export", "get", visible_to_marketing(200), kwargs=report),
    Row("reports:console", "get", {
        **NOT_SIGNED_IN, **NO_TEAM, "marketing": 200, "marketing_ungranted": 200,
        "ux_owner": 200, "ux_other": 200, "ops": 403, "admin": 200,
    }),
    Row("reports:saved-queries", "get", {
        **NOT_SIGNED_IN, **NO_TEAM, "marketing": 200, "marketing_ungranted": 200,
        "ux_owner": 403, "ux_other": 403, "ops": 403, "admin": 200,
    }),
    Row("reports:saved-query", "get", visible_to_marketing(200), kwargs=saved_query),
    Row("reports:saved-query-edit", "get", visible_to_marketing(200), kwargs=saved_query),
    Row("reports:saved-query-share", "get", visible_to_marketing(200), kwargs=saved_query),
    Row("reports:saved-query-delete", "post", visible_to_marketing(302), kwargs=saved_query),
]  # fmt: skip


# Who may use the admin pages of this app's models and of django-celery-beat's (schedules),
# in the shape of ADMIN_ACCESS in tests/test_permission_matrix.py: the superuser only (team
# members are not given these models' permissions); runs and the console log are read-only.
_ADMIN_ONLY = {"view": {"admin"}, "add": {"admin"}, "change": {"admin"}, "delete": {"admin"}}
ADMIN_ACCESS: dict[str, dict[str, set[str]]] = {
    "reports.report": _ADMIN_ONLY,
    "reports.savedquery": _ADMIN_ONLY,
    "reports.reportrun": {"view": {"admin"}, "add": set(), "change": set(), "delete": {"admin"}},
    "reports.queryrun": {"view": {"admin"}, "add": set(), "change": set(), "delete": set()},
    **{
        f"django_celery_beat.{model}": _ADMIN_ONLY
        for model in (
            "periodictask", "crontabschedule", "intervalschedule", "solarschedule",
            "clockedschedule",
        )
    },
}  # fmt: skip


def populate_world(world: Any) -> None:
    """The report and saved query the rows act on, with the grants described above."""
    from guardian.shortcuts import assign_perm

    from apps.reports.models import QueryRun, ReportRun
    from apps.reports.services.queries import saved_query_share
    from apps.reports.services.runs import report_sync_definitions

    from .factories import ReportFactory, SavedQueryFactory

    marketing = world.teams["marketing"].group
    world.report = ReportFactory(key="signups")
    assign_perm("reports.view_report", marketing, world.report)
    world.saved_query = SavedQueryFactory(owner=world.marketing)
    saved_query_share(query=world.saved_query, group=marketing, with_sql=False)
    # Objects for the admin's change, history and delete pages.
    from django.utils import timezone
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )

    report_sync_definitions()
    run = ReportRun.objects.create(
        report=world.report, window_start="2026-03-01", window_end="2026-03-02",
        started_at=timezone.now(),
    )  # fmt: skip
    log = QueryRun.objects.create(
        user=world.marketing, target="reporting", sql="SELECT 1", status="ok",
        started_at=timezone.now(),
    )  # fmt: skip
    objects = getattr(world, "admin_objects", {})
    objects.update({
        "reports.report": world.report,
        "reports.reportrun": run,
        "reports.savedquery": world.saved_query,
        "reports.queryrun": log,
        "django_celery_beat.periodictask": PeriodicTask.objects.get(name="report: signups"),
        "django_celery_beat.crontabschedule": CrontabSchedule.objects.first(),
        "django_celery_beat.intervalschedule": IntervalSchedule.objects.create(
            every=10, period="seconds"
        ),
        "django_celery_beat.solarschedule": SolarSchedule.objects.create(
            event="sunrise", latitude=52.5, longitude=13.4
        ),
        "django_celery_beat.clockedschedule": ClockedSchedule.objects.create(
            clocked_time=timezone.now()
        ),
    })  # fmt: skip
    world.admin_objects = objects


# The API: the team's view_report to reach it (403 without), a grant per report (404).
_API_REPORTS = {
    "anonymous": 401, "user": 403, "owner": 403, "author": 403, "marketing": 200,
    "marketing_ungranted": 200, "ux_owner": 403, "ux_other": 403, "ops": 403, "admin": 200,
}  # fmt: skip
ROWS += [
    Row("api:report-list", "get", _API_REPORTS),
    Row(
        "api:report-detail", "get", {**_API_REPORTS, "marketing_ungranted": 404},
        kwargs=lambda w: {"key": w.report.key},
    ),
]  # fmt: skip
