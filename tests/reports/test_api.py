"""The reports API: lists filtered by grants, one report's rows checked per object."""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm

from apps.reports.definitions import Window
from apps.reports.services.runs import report_run
from tests.factories import UserFactory, api_client, team, team_member

from .factories import ReportFactory
from .seed import DAY, days, seed

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_marketing_lists_and_reads_the_reports_granted_to_its_team():
    seed()
    signups = ReportFactory(key="signups")
    ReportFactory(key="uploads")
    assign_perm("reports.view_report", team("marketing").group, signups)
    report_run(report=signups, window=Window(days(-2), days(2)))
    member = team_member("marketing")

    assert [r["key"] for r in api_client(member).get("/api/v1/reports/").json()] == ["signups"]
    rows = api_client(member).get(
        "/api/v1/reports/signups/", {"start": days(-2).isoformat(), "end": days(1).isoformat()}
    )
    assert rows.status_code == 200
    assert [row["day"] for row in rows.json()["results"]] == [
        days(n).isoformat() for n in (-2, -1, 0, 1)
    ]
    assert rows.json()["results"][2]["day"] == DAY.isoformat()
    assert rows["X-Data-As-Of"].startswith(days(2).isoformat())
    # Granted the team's job but not this report: as if it did not exist.
    assert api_client(member).get("/api/v1/reports/uploads/").status_code == 404
    assert api_client(member).get("/api/v1/reports/nonexistent/").status_code == 404


def test_without_the_teams_permission_the_api_refuses_and_bad_ranges_are_explained():
    report = ReportFactory(key="signups")
    assign_perm("reports.view_report", team("marketing").group, report)
    assert api_client(UserFactory()).get("/api/v1/reports/").status_code == 403
    assert api_client(UserFactory()).get("/api/v1/reports/signups/").status_code == 403
    assert api_client().get("/api/v1/reports/").status_code == 401
    member = team_member("marketing")
    backwards = api_client(member).get(
        "/api/v1/reports/signups/", {"start": "2026-03-02", "end": "2026-03-01"}
    )
    assert backwards.status_code == 400
    assert "start" in backwards.json()["error"]["fields"]
    too_long = api_client(member).get(
        "/api/v1/reports/signups/", {"start": "2020-01-01", "end": "2026-03-01"}
    )
    assert too_long.status_code == 400


def test_the_report_list_costs_the_same_queries_for_3_or_30_granted_reports():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.reports.models import Report

    marketing = team("marketing").group
    member = team_member("marketing")
    api_client(member).get("/api/v1/reports/")  # a process that has served one (content types)
    counts, granted = [], 0
    for total in (3, 30):
        for _ in range(total - granted):
            report = Report.objects.create(key=f"granted-{granted}", name="Report")
            assign_perm("reports.view_report", marketing, report)
            granted += 1
        client = api_client(type(member).objects.get(pk=member.pk))  # no permission cache
        with CaptureQueriesContext(connection) as queries:
            listed = client.get("/api/v1/reports/").json()
        assert len(listed) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]
