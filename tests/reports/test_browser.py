"""A marketing analyst's dashboards in a real browser (Debian's Chromium, Playwright).

The embedded stack as ``make run`` serves it, with generated data and reports backfilled:
open the dashboard, change the range, see the chart redrawn, export the CSV. Someone
without the grant gets 403 and 404. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

import pytest

from tests.browser.harness import demo_site, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a long and unusual passphrase"

SETUP = f"""
from django.contrib.auth.models import Group, Permission
from guardian.shortcuts import assign_perm
from apps.accounts.models import User
from apps.reports.models import Report

group, _ = Group.objects.get_or_create(name="marketing")
for codename in ("view_report", "view_savedquery", "add_savedquery", "use_query_console"):
    permission = Permission.objects.get(content_type__app_label="reports", codename=codename)
    group.permissions.add(permission)
for name in ("mira", "sam"):
    user = User.objects.create_user(name, password={PASSWORD!r})
User.objects.get(username="mira").groups.add(group)
for key in ("engagement", "signups"):
    assign_perm("reports.view_report", group, Report.objects.get(key=key))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    commands = [
        ("generate_load_data", "--photos", "300", "--events", "4000", "--days", "40"),
        ("backfill_reports", "--days", "40", "--report", "engagement", "--report", "signups"),
        ("shell", "-c", SETUP),
    ]
    with demo_site(tmp_path_factory.mktemp("reports-browser-var"), *commands) as (url, _):
        yield url


def sign_in(page, username: str) -> None:
    log_in(page, "/accounts/login/", username, PASSWORD)


def test_an_analyst_opens_a_dashboard_changes_the_range_and_exports_csv(page):
    from playwright.sync_api import expect

    sign_in(page, "mira")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    page.get_by_role("link", name="Engagement").click()
    chart = page.locator("#report-chart")
    expect(chart).to_have_attribute("data-ready", "true")
    expect(page.get_by_text("Data as of")).to_be_visible()
    expect(page.locator("table.report-table tbody tr")).to_have_count(30)
    shot(page, "reports-01-dashboard")

    end = dt.date.today() - dt.timedelta(days=2)
    start = end - dt.timedelta(days=6)
    page.get_by_label("From (UTC day)").fill(start.isoformat())
    page.get_by_label("To (UTC day, included)").fill(end.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"/reports/r/engagement/?start={start}&end={end}")
    expect(page.locator("table.report-table tbody tr")).to_have_count(7)
    expect(chart).to_have_attribute("data-ready", "true")
    # Two series (likes, comments) of seven days each, drawn by Chart.js.
    expect(chart).to_have_attribute("data-points", "14")
    assert chart.bounding_box()["height"] > 100
    drawn = page.evaluate("() => window.Chart.getChart('report-chart').data.labels")
    assert drawn == [(start + dt.timedelta(days=n)).isoformat() for n in range(7)]
    shot(page, "reports-02-range")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rows[0][:4] == ["day", "dimension", "likes", "comments"]
    assert [row[0] for row in rows[1:]] == [
        (start + dt.timedelta(days=n)).isoformat() for n in range(7)
    ]
    table_likes = page.locator("table.report-table tbody tr td:nth-of-type(1)").all_inner_texts()
    assert [int(text.replace(",", "")) for text in table_likes] == [int(r[2]) for r in rows[1:]]


def test_someone_without_the_grant_gets_403_and_404(page):
    from playwright.sync_api import expect

    sign_in(page, "sam")
    expect(page.get_by_role("link", name="Reports")).to_have_count(0)
    assert page.goto("/reports/").status == 403
    assert page.goto("/reports/r/engagement/").status == 404
    assert page.goto("/reports/r/engagement/export.csv").status == 404
    shot(page, "reports-03-no-grant")
