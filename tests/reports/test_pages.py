"""Dashboards, CSV exports, the console and saved-query pages, as marketing uses them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from apps.reports.models import QueryRun, ReportRow, ReportRun, SavedQuery
from apps.reports.services.queries import saved_query_share
from tests.factories import PhotoFactory, UserFactory

from .factories import ReportFactory, SavedQueryFactory

pytestmark = pytest.mark.django_db
# Pages that run console queries read the reporting copy, which sees committed rows only.
READS_REPORTING = pytest.mark.django_db(transaction=True, databases="__all__")

TODAY = dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch):
    now = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)


def store(report, first, count, make=lambda n: {"signups": n}, finished=None, rows=True):
    """Stored rows for ``count`` days from ``first``, and one successful run covering them."""
    run = ReportRun.objects.create(
        report=report, window_start=first, window_end=first + dt.timedelta(days=count),
        status="succeeded", started_at=timezone.now(),
        finished_at=finished or timezone.now(), duration_ms=5, row_count=count,
    )  # fmt: skip
    ReportRow.objects.bulk_create(
        ReportRow(report=report, run=run, day=first + dt.timedelta(days=n), values=make(n))
        for n in range(count if rows else 0)
    )
    return run


@pytest.fixture
def analyst(team_member, client):
    user = team_member("marketing")
    client.force_login(user)
    return user


@pytest.fixture
def signups(analyst):
    report = ReportFactory(key="signups")
    assign_perm("reports.view_report", analyst.groups.get(), report)
    return report


def test_the_dashboard_shows_a_chart_and_a_table_of_the_last_30_days(client, signups):
    store(signups, TODAY - dt.timedelta(days=40), 40)
    response = client.get(reverse("reports:dashboard", args=["signups"]))
    assert response.status_code == 200
    html = response.content.decode()
    chart = json.loads(
        html.split('id="report-chart-data" type="application/json">')[1].split("<")[0]
    )
    assert chart["labels"][0] == "2026-02-08"
    assert chart["labels"][-1] == "2026-03-09"
    assert chart["datasets"][0]["data"][-1] == 39
    assert html.count('<th scope="row"><time') == 30
    assert "Data as of" in html
    assert "Stale" not in html
    assert "chart.js-4.6.1/chart.umd.min.js" in html
    assert 'href="/reports/r/signups/export.csv?start=2026-02-08&amp;end=2026-03-09"' in html


def test_changing_the_range_changes_the_days_shown(client, signups):
    store(signups, TODAY - dt.timedelta(days=40), 40)
    response = client.get(
        reverse("reports:dashboard", args=["signups"]), {"start": "2026-02-01", "end": "2026-02-07"}
    )
    html = response.content.decode()
    assert html.count('<th scope="row"><time') == 7
    assert 'datetime="2026-02-01"' in html
    assert 'datetime="2026-02-08"' not in html


def test_days_without_a_run_are_gaps_not_zeros(client, signups):
    store(signups, dt.date(2026, 3, 1), 3)
    response = client.get(
        reverse("reports:dashboard", args=["signups"]), {"start": "2026-02-27", "end": "2026-03-05"}
    )
    html = response.content.decode()
    chart = json.loads(
        html.split('id="report-chart-data" type="application/json">')[1].split("<")[0]
    )
    assert chart["datasets"][0]["data"] == [None, None, 0, 1, 2, None, None]
    assert "4 days of this range have not been computed" in html


def test_a_late_run_is_flagged_as_stale(client, signups):
    store(signups, TODAY - dt.timedelta(days=10), 5, finished=timezone.now() - dt.timedelta(days=5))
    html = client.get(reverse("reports:dashboard", args=["signups"])).content.decode()
    assert "Stale:" in html
    assert 'role="alert"' in html
    assert "Data as of" in html


def test_a_report_that_never_ran_says_so(client, signups):
    html = client.get(reverse("reports:dashboard", args=["signups"])).content.decode()
    assert "No data yet" in html


def test_a_backwards_or_too_long_range_is_a_400(client, signups):
    url = reverse("reports:dashboard", args=["signups"])
    assert client.get(url, {"start": "2026-03-05", "end": "2026-03-01"}).status_code == 400
    assert client.get(url, {"start": "2020-01-01", "end": "2026-03-01"}).status_code == 400


@pytest.mark.parametrize("days", [10, 365])
def test_a_dashboard_costs_the_same_queries_for_10_or_365_stored_days(
    client, signups, days, django_assert_max_num_queries
):
    store(signups, TODAY - dt.timedelta(days=days), days)
    with django_assert_max_num_queries(12):
        response = client.get(
            reverse("reports:dashboard", args=["signups"]),
            {"start": (TODAY - dt.timedelta(days=days)).isoformat(), "end": TODAY.isoformat()},
        )
    assert response.status_code == 200


def test_the_csv_export_streams_every_row_of_the_range_with_its_count(client, signups):
    store(signups, dt.date(2018, 1, 1), 3000)  # more than one chunk, more than any page
    response = client.get(
        reverse("reports:export", args=["signups"]), {"start": "2018-01-01", "end": "2026-12-31"}
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "signups_2018-01-01_2026-12-31.csv" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["day", "dimension", "signups"]
    assert len(rows) - 1 == int(response["X-Row-Count"]) == 3000
    assert rows[1] == ["2018-01-01", "", "0"]
    assert rows[-1][2] == "2999"


def test_leaderboards_show_the_chosen_period_ending_the_last_day(client, analyst):
    report = ReportFactory(key="top_photos")
    assign_perm("reports.view_report", analyst.groups.get(), report)
    run = store(report, TODAY - dt.timedelta(days=1), 1, rows=False)
    photo = PhotoFactory()
    for period in (1, 7):
        ReportRow.objects.create(
            report=report, run=run, day=TODAY - dt.timedelta(days=1), dimension=f"{period}d:01",
            values={"period": period, "rank": 1, "photo_id": photo.pk, "caption": "sunset",
                    "owner": "ada", "likes": period * 10, "comments": 1, "score": period * 10 + 1},
        )  # fmt: skip
    response = client.get(reverse("reports:dashboard", args=["top_photos"]), {"period": 7})
    html = response.content.decode()
    assert "over 7 days ending 9 Mar 2026" in html
    assert f'href="/p/{photo.pk}/"' in html
    assert "71" in html


def test_people_without_the_grant_get_404_or_403(client, team_member, signups):
    url = reverse("reports:dashboard", args=["signups"])
    export = reverse("reports:export", args=["signups"])
    other_team = team_member("marketing-emea")
    client.force_login(other_team)
    assert client.get(url).status_code == 404
    assert client.get(export).status_code == 404
    assert client.get(reverse("reports:index")).status_code == 200
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    assert client.get(reverse("reports:index")).status_code == 403
    assert client.get(reverse("reports:dashboard", args=["no-such-report"])).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_the_index_lists_granted_reports_and_the_nav_links_to_it(client, signups):
    ReportFactory(key="uploads")
    html = client.get(reverse("reports:index")).content.decode()
    assert "Daily sign-ups" in html
    assert "Daily uploads" not in html
    assert f'href="{reverse("reports:index")}">Reports</a>' in html
    assert "Query console" in html
    client.force_login(UserFactory())
    assert ">Reports</a>" not in client.get("/").content.decode()


@READS_REPORTING
def test_the_console_runs_a_query_and_shows_the_limit_when_hit(client, analyst, settings):
    settings.PINSTABLR_CONSOLE_ROW_LIMIT = 2
    response = client.post(
        reverse("reports:console"),
        {"target": "reporting", "sql": "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3",
         "action": "run"},
    )  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200
    assert "Showing 2 of more rows" in html
    refused = client.post(
        reverse("reports:console"), {"target": "reporting", "sql": "DROP TABLE photos_photo"}
    ).content.decode()
    assert "Refused:" in refused
    assert "DROP statements are refused" in refused
    assert QueryRun.objects.filter(user=analyst).count() == 2


def test_the_console_offers_only_permitted_targets(client, analyst):
    response = client.post(reverse("reports:console"), {"target": "default", "sql": "SELECT 1"})
    assert response.status_code == 400
    assert not QueryRun.objects.exists()
    client.force_login(UserFactory())
    assert client.get(reverse("reports:console")).status_code == 403


@READS_REPORTING
def test_saving_a_console_query_and_sharing_its_results_without_its_sql(
    client, analyst, team_member
):
    response = client.post(
        reverse("reports:console"),
        {"target": "reporting", "sql": "SELECT COUNT(*) AS n FROM photos_photo",
         "title": "Photos so far", "description": "All of them", "action": "save"},
    )  # fmt: skip
    query = SavedQuery.objects.get()
    assert response.status_code == 302
    assert query.owner == analyst
    share = reverse("reports:saved-query-share", args=[query.pk])
    assert client.post(share, {"group": analyst.groups.get().pk}).status_code == 302

    colleague = team_member("marketing")
    client.force_login(colleague)
    page = reverse("reports:saved-query", args=[query.pk])
    html = client.get(page).content.decode()
    assert "Photos so far" in html
    assert "SELECT COUNT" not in html
    assert "shared the results of this query, not its SQL" in html
    run = client.post(page).content.decode()
    assert "1 row" in run
    assert "SELECT COUNT" not in run
    assert QueryRun.objects.get(user=colleague).saved_query == query
    assert client.get(reverse("reports:saved-query-edit", args=[query.pk])).status_code == 403
    assert client.post(reverse("reports:saved-query-delete", args=[query.pk])).status_code == 403
    assert client.get(share).status_code == 403

    client.force_login(team_member("marketing-emea"))
    assert client.get(page).status_code == 404


def test_owners_edit_share_with_sql_revoke_and_delete(client, analyst, team_member):
    query = SavedQueryFactory(owner=analyst)
    colleague = team_member("marketing")
    edit = reverse("reports:saved-query-edit", args=[query.pk])
    bad = client.post(edit, {"title": "x", "sql": "DELETE FROM photos_photo", "description": ""})
    assert bad.status_code == 400
    assert "DELETE statements are refused" in bad.content.decode()
    client.post(edit, {"title": "Renamed", "sql": "SELECT 2", "description": ""})
    query.refresh_from_db()
    assert (query.title, query.sql) == ("Renamed", "SELECT 2")

    share = reverse("reports:saved-query-share", args=[query.pk])
    client.post(share, {"username": colleague.username, "with_sql": "on"})
    client.force_login(colleague)
    assert (
        "SELECT 2" in client.get(reverse("reports:saved-query", args=[query.pk])).content.decode()
    )
    client.force_login(analyst)
    client.post(share, {"revoke_user": colleague.pk})
    client.force_login(colleague)
    assert client.get(reverse("reports:saved-query", args=[query.pk])).status_code == 404
    client.force_login(analyst)
    assert client.post(reverse("reports:saved-query-delete", args=[query.pk])).status_code == 302
    assert not SavedQuery.objects.exists()


def test_saved_query_list_shows_own_and_shared(client, analyst, team_member):
    mine = SavedQueryFactory(owner=analyst, title="Mine")
    theirs = SavedQueryFactory(owner=team_member("marketing"), title="Theirs")
    hidden = SavedQueryFactory(owner=team_member("marketing"), title="Hidden")
    saved_query_share(query=theirs, user=analyst, with_sql=False)
    html = client.get(reverse("reports:saved-queries")).content.decode()
    assert mine.title in html
    assert theirs.title in html
    assert hidden.title not in html


def test_a_failed_latest_run_is_mentioned(client, signups):
    store(
        signups, TODAY - dt.timedelta(days=3), 2, finished=timezone.now() - dt.timedelta(hours=30)
    )
    ReportRun.objects.create(
        report=signups, window_start=TODAY - dt.timedelta(days=1), window_end=TODAY,
        status="failed", started_at=timezone.now(), finished_at=timezone.now(),
        error="OperationalError: lost connection",
    )  # fmt: skip
    html = client.get(reverse("reports:dashboard", args=["signups"])).content.decode()
    assert "The latest run failed, so the newest days may be missing." in html
    assert "lost connection" not in html
