"""Growth and activity: sign-ups, uploads, active users and retention cohorts.

"Active" means the user did something that leaves a row: uploaded a photo, liked, commented
or followed someone. Logging in or browsing alone leaves none, so it does not count; the
same definition is used for active users and for retention.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Model,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)

from apps.accounts.models import Follow, User
from apps.photos.models import Comment, Like, Photo
from pinstablr.db.config import REPORTING

from .base import (
    Column,
    Grain,
    Layout,
    ReportDefinition,
    ResultRow,
    Window,
    db_datetime,
    fetch,
    qn,
    ratio,
    register,
    start_of,
)

COHORT_WEEKS = 12
ONE_DAY = dt.timedelta(days=1)


def activity_sources() -> list[tuple[type[Model], str, str]]:
    """(model, user column, time column) of every table whose rows are a user's activity."""
    return [
        (Photo, "owner_id", "created_at"),
        (Like, "user_id", "created_at"),
        (Comment, "author_id", "created_at"),
        (Follow, "follower_id", "created_at"),
    ]


def activity_union_sql() -> str:
    """``SELECT user, time`` of all activity between two bounds (each source takes both)."""
    parts = [
        f"SELECT {qn(user)} AS u, {qn(time)} AS t FROM {qn(model._meta.db_table)} "  # noqa: S608
        f"WHERE {qn(time)} >= %s AND {qn(time)} < %s"
        for model, user, time in activity_sources()
    ]
    return " UNION ALL ".join(parts)


def compute_signups(window: Window) -> list[ResultRow]:
    # Plain SQL: for a count this cheap, building the ORM's query (~0.4 ms) costs about half
    # as much as running it (bench/reports.py).
    joined = qn("date_joined")
    sql = (
        f"SELECT COUNT(*) FROM {qn(User._meta.db_table)} "  # noqa: S608 - names quoted above
        f"WHERE {joined} >= %s AND {joined} < %s"
    )
    rows = []
    for day in window.days:
        bounds = [db_datetime(start_of(day)), db_datetime(start_of(day + ONE_DAY))]
        rows.append(ResultRow(day, {"signups": fetch(sql, bounds)[0][0]}))
    return rows


def compute_uploads(window: Window) -> list[ResultRow]:
    rows = []
    for day in window.days:
        counts = (
            Photo.objects.using(REPORTING)
            .filter(created_at__gte=start_of(day), created_at__lt=start_of(day) + dt.timedelta(1))
            .aggregate(
                uploads=Count("id"),
                ready=Count("id", filter=Q(status=Photo.Status.READY)),
                failed=Count("id", filter=Q(status=Photo.Status.FAILED)),
                uploaders=Count("owner_id", distinct=True),
                bytes=Sum("original_bytes", default=0),
            )
        )
        counts["per_uploader"] = ratio(counts["uploads"], counts["uploaders"])
        rows.append(ResultRow(day, counts))
    return rows


def compute_active_users(window: Window) -> list[ResultRow]:
    # One aggregate per day over the trailing 30 days of activity; the three counts share
    # the scan (DAU and WAU are the same distinct count restricted to the last 1 and 7 days).
    sql = (
        "SELECT COUNT(DISTINCT CASE WHEN a.t >= %s THEN a.u END), "  # noqa: S608
        "COUNT(DISTINCT CASE WHEN a.t >= %s THEN a.u END), COUNT(DISTINCT a.u) "
        f"FROM ({activity_union_sql()}) a"
    )
    rows = []
    for day in window.days:
        end = db_datetime(start_of(day) + dt.timedelta(days=1))
        bounds = [db_datetime(start_of(day) - dt.timedelta(days=29)), end]
        params = [
            db_datetime(start_of(day)),
            db_datetime(start_of(day) - dt.timedelta(days=6)),
            *bounds * len(activity_sources()),
        ]
        dau, wau, mau = fetch(sql, params)[0]
        rows.append(
            ResultRow(
                day,
                {"dau": dau, "wau": wau, "mau": mau, "stickiness": ratio(dau, mau)},
            )
        )
    return rows


def compute_retention(window: Window) -> list[ResultRow]:
    """For the activity week ``window``: how many of each of the last 12 sign-up week cohorts
    were active in it (week 0 is the sign-up week itself). One query for all cohorts."""
    week_start, week_end = start_of(window.start), start_of(window.end)
    active_in_week = Q()
    for model, user, time in activity_sources():
        active_in_week |= Q(
            Exists(
                model._default_manager.filter(
                    **{user: OuterRef("pk"), f"{time}__gte": week_start, f"{time}__lt": week_end}
                )
            )
        )
    cohorts = [window.start - dt.timedelta(weeks=offset) for offset in range(COHORT_WEEKS)]
    week_of_cohort = Case(
        *(
            When(date_joined__gte=start_of(cohort), then=Value(offset))
            for offset, cohort in enumerate(cohorts)
        ),
        output_field=IntegerField(),
    )
    counted: dict[int, dict[str, Any]] = {
        row["week"]: dict(row)
        for row in User.objects.using(REPORTING)
        .filter(date_joined__gte=start_of(cohorts[-1]), date_joined__lt=week_end)
        .annotate(week=week_of_cohort)
        .values("week")
        .annotate(size=Count("id"), active=Count("id", filter=active_in_week))
        .order_by()
    }
    rows = []
    for offset, cohort in enumerate(cohorts):
        size = counted.get(offset, {}).get("size", 0)
        active = counted.get(offset, {}).get("active", 0)
        rows.append(
            ResultRow(
                window.start,
                {
                    "cohort": cohort.isoformat(),
                    "week": offset,
                    "size": size,
                    "active": active,
                    "retained": ratio(active, size),
                },
                dimension=cohort.isoformat(),
            )
        )
    return rows


SIGNUPS = register(
    ReportDefinition(
        key="signups",
        name="Daily sign-ups",
        description="New accounts per UTC day.",
        grain=Grain.DAY,
        layout=Layout.SERIES,
        columns=(Column("signups", "Sign-ups"),),
        compute=compute_signups,
        chart_series=("signups",),
        chart_type="bar",
    )
)

UPLOADS = register(
    ReportDefinition(
        key="uploads",
        name="Daily uploads",
        description=(
            "Photos uploaded per UTC day, how many of them are ready or failed now, how many "
            "people uploaded and the bytes received."
        ),
        grain=Grain.DAY,
        layout=Layout.SERIES,
        columns=(
            Column("uploads", "Uploads"),
            Column("ready", "Ready"),
            Column("failed", "Failed"),
            Column("uploaders", "Uploaders"),
            Column("per_uploader", "Uploads per uploader", "float"),
            Column("bytes", "Bytes"),
        ),
        compute=compute_uploads,
        chart_series=("uploads", "uploaders"),
    )
)

ACTIVE_USERS = register(
    ReportDefinition(
        key="active_users",
        name="Active users (DAU, WAU, MAU)",
        description=(
            "People who uploaded, liked, commented or followed: on the day (DAU), in the 7 days "
            "ending that day (WAU) and in the 30 days ending that day (MAU). Stickiness is "
            "DAU / MAU."
        ),
        grain=Grain.DAY,
        layout=Layout.SERIES,
        columns=(
            Column("dau", "DAU"),
            Column("wau", "WAU"),
            Column("mau", "MAU"),
            Column("stickiness", "DAU / MAU", "percent"),
        ),
        compute=compute_active_users,
        chart_series=("dau", "wau", "mau"),
    )
)

RETENTION = register(
    ReportDefinition(
        key="retention",
        name="Retention by sign-up week",
        description=(
            "Of the people who signed up in a week (Monday to Sunday, UTC), the share active "
            "in each following week. Week 0 is the sign-up week; a run covers one activity "
            f"week and the {COHORT_WEEKS} cohorts before it."
        ),
        grain=Grain.WEEK,
        layout=Layout.COHORTS,
        columns=(
            Column("cohort", "Cohort (week of)", "date"),
            Column("week", "Week"),
            Column("size", "Cohort size"),
            Column("active", "Active"),
            Column("retained", "Retained", "percent"),
        ),
        compute=compute_retention,
    )
)
