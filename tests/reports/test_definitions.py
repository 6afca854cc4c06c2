"""Every report's numbers on a data set small enough to count by hand, read from reporting."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from apps.reports.definitions import REGISTRY, Window
from apps.reports.models import ReportRow
from apps.reports.services.runs import report_run, report_sync_definitions

from .seed import DAY, days, seed

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

PRODUCTION_TABLES = (
    "accounts_user", "accounts_follow", "accounts_profile", "photos_photo", "photos_like",
    "photos_comment",
)  # fmt: skip


def values(key: str, day=DAY) -> list[dict]:
    definition = REGISTRY[key]
    return [row.values for row in definition.compute(definition.window_for(day))]


def test_daily_signups_count_the_utc_day_only():
    seed()
    assert values("signups") == [{"signups": 2}]  # u2 at 10:00, u3 at 23:59:59
    assert values("signups", days(1)) == [{"signups": 1}]


def test_daily_uploads_with_outcome_uploaders_and_bytes():
    seed()
    assert values("uploads") == [
        {"uploads": 4, "ready": 3, "failed": 1, "uploaders": 2, "per_uploader": 2.0,
         "bytes": 4000}
    ]  # fmt: skip


def test_active_users_over_the_day_7_and_30_days():
    seed()
    # DAU: u1 (uploads, comments), u2 (upload, like), u3 (likes, comment). WAU adds nobody
    # new; MAU adds u0 (a like 20 days before); u5's follow 30 days before is outside.
    assert values("active_users") == [{"dau": 3, "wau": 3, "mau": 4, "stickiness": 0.75}]


def test_engagement_per_photo_and_per_person():
    seed()
    assert values("engagement") == [
        {"likes": 3, "comments": 3, "photos": 2, "people": 3, "likes_per_photo": 1.5,
         "comments_per_photo": 1.5, "likes_per_person": 1.0, "comments_per_person": 1.0}
    ]  # fmt: skip


def test_top_photos_rank_by_likes_plus_comments_with_ties_by_id(django_assert_max_num_queries):
    data = seed()
    rows = values("top_photos")
    day = [(r["rank"], r["photo_id"], r["score"]) for r in rows if r["period"] == 1]
    p1, p3, p5 = (data.photos[name].pk for name in ("p1", "p3", "p5"))
    assert day == [(1, p1, 3), (2, p3, 3)]
    month = [(r["rank"], r["photo_id"], r["score"]) for r in rows if r["period"] == 30]
    assert month == [(1, p1, 3), (2, p3, 3), (3, p5, 1)]
    assert rows[0]["owner"] == "u1"


def test_top_creators_add_up_their_photos():
    data = seed()
    rows = [r for r in values("top_creators") if r["period"] == 7]
    assert [(r["username"], r["likes"], r["comments"]) for r in rows] == [
        ("u1", 2, 1),
        ("u2", 1, 2),
    ]
    assert rows[0]["user_id"] == data.users["u1"].pk


def test_processing_latency_percentiles_by_nearest_rank():
    seed()
    # Ready that day: 10 s, 30 s, 100 s and 3,620 s (uploaded the evening before).
    assert values("processing_latency") == [
        {"ready": 4, "p50_seconds": 30.0, "p95_seconds": 3620.0, "avg_seconds": 940.0,
         "max_seconds": 3620.0}
    ]  # fmt: skip


def test_retention_cohorts_by_signup_week():
    seed()
    rows = {r["week"]: r for r in values("retention")}
    assert len(rows) == 12
    # The week of DAY: u2, u3 and u4 signed up and were active in it.
    assert rows[0] == {"cohort": "2026-03-02", "week": 0, "size": 3, "active": 3, "retained": 1.0}
    assert rows[1]["size"] == 0
    assert rows[1]["retained"] is None
    # u1 signed up two weeks before and was active in DAY's week.
    assert rows[2] == {"cohort": "2026-02-16", "week": 2, "size": 1, "active": 1, "retained": 1.0}


def test_no_data_gives_zeros_and_empty_boards_not_errors():
    for key in REGISTRY:
        rows = values(key)
        assert isinstance(rows, list)
    assert values("signups") == [{"signups": 0}]
    assert values("processing_latency")[0]["p50_seconds"] is None


def test_every_report_reads_production_data_only_through_reporting():
    """Queries captured per alias while every report runs and stores its rows."""
    seed()
    report_sync_definitions()
    from apps.reports.models import Report

    captured = {alias: CaptureQueriesContext(connections[alias]) for alias in connections}
    for context in captured.values():
        context.__enter__()
    try:
        for report in Report.objects.all():
            report_run(report=report, window=REGISTRY[report.key].window_for(DAY))
    finally:
        for context in captured.values():
            context.__exit__(None, None, None)

    def production(alias: str) -> list[str]:
        return [
            q["sql"] for q in captured[alias].captured_queries
            if any(table in q["sql"] for table in PRODUCTION_TABLES)
        ]  # fmt: skip

    reporting = production("reporting")
    assert len(reporting) >= len(REGISTRY)
    assert all(sql.lstrip().upper().startswith(("SELECT", "WITH")) for sql in reporting)
    for alias in connections:
        if alias != "reporting":
            assert production(alias) == [], f"production data read through {alias}"
    # The results went to default, and nowhere else.
    writes = [
        q["sql"] for q in captured["default"].captured_queries if "reports_reportrow" in q["sql"]
    ]
    assert any(sql.startswith("INSERT") for sql in writes)
    assert ReportRow.objects.filter(day=DAY).count() > len(REGISTRY)


def test_windows_of_a_week_report_start_on_monday():
    wednesday = days(2)
    assert REGISTRY["retention"].window_for(wednesday) == Window(DAY, days(7))
    assert REGISTRY["signups"].window_for(wednesday) == Window(wednesday, days(3))
