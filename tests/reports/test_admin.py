"""The reports admin: lists filtered by permissions.py, runs and the console log read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape
from guardian.shortcuts import assign_perm

from apps.reports.models import QueryRun
from tests.factories import UserFactory

from .factories import ReportFactory, SavedQueryFactory

pytestmark = pytest.mark.django_db


def test_the_report_list_shows_only_what_the_viewer_may_see(client, team_member):
    granted, other = ReportFactory(key="signups"), ReportFactory(key="uploads")
    staff = team_member("marketing", perms=("reports.view_report",), is_staff=True)
    assign_perm("reports.view_report", staff.groups.get(), granted)
    client.force_login(staff)
    html = client.get(reverse("admin:reports_report_changelist")).content.decode()
    assert granted.name in html
    assert other.name not in html
    url = reverse("admin:reports_report_change", args=[other.pk])
    assert client.get(url).status_code == 302  # not found: back to the admin index


def test_superusers_see_everything_and_the_log_cannot_be_edited(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    query = SavedQueryFactory()
    log = QueryRun.objects.create(
        user=query.owner, target="reporting", sql="SELECT 1", status="ok",
        started_at="2026-03-01T00:00:00Z",
    )  # fmt: skip
    client.force_login(admin)
    assert client.get(reverse("admin:reports_savedquery_changelist")).status_code == 200
    assert client.get(reverse("admin:reports_queryrun_changelist")).status_code == 200
    assert client.get(reverse("admin:reports_queryrun_add")).status_code == 403
    assert client.get(reverse("admin:reports_queryrun_delete", args=[log.pk])).status_code == 403
    page = client.get(reverse("admin:reports_queryrun_change", args=[log.pk])).content.decode()
    assert "SELECT 1" in page
    assert 'name="_save"' not in page
    assert (
        client.get(reverse("admin:django_celery_beat_periodictask_changelist")).status_code == 200
    )


def test_staff_of_other_teams_cannot_open_the_reports_admin(client, team_member):
    ux = team_member("ux", perms=("experiments.use_analysis_console",), is_staff=True)
    client.force_login(ux)
    assert client.get(reverse("admin:reports_report_changelist")).status_code == 403
    assert client.get(reverse("admin:reports_queryrun_changelist")).status_code == 403


def test_staff_see_a_shared_querys_sql_only_when_it_was_shared_with_it(client, team_member):
    from apps.reports.services.queries import saved_query_share

    staff = team_member(
        "marketing", perms=("reports.view_savedquery", "reports.view_queryrun"), is_staff=True
    )
    hidden = SavedQueryFactory(sql="SELECT 'client-secret-name' AS client")
    shown = SavedQueryFactory(sql="SELECT 'open-campaign' AS campaign")
    saved_query_share(query=hidden, user=staff, with_sql=False)
    saved_query_share(query=shown, user=staff, with_sql=True)
    runs = [
        QueryRun.objects.create(
            user=query.owner,
            saved_query=query,
            target="reporting",
            sql=query.sql,
            status="ok",
            started_at="2026-03-01T00:00:00Z",
        )
        for query in (hidden, shown)
    ]
    client.force_login(staff)
    for query, visible in ((hidden, False), (shown, True)):
        page = client.get(reverse("admin:reports_savedquery_change", args=[query.pk]))
        assert page.status_code == 200
        assert (escape(query.sql) in page.content.decode()) is visible
    for run, visible in zip(runs, (False, True), strict=True):
        page = client.get(reverse("admin:reports_queryrun_change", args=[run.pk]))
        assert page.status_code == 200
        assert (escape(run.sql) in page.content.decode()) is visible
    # Nor can a search of the log tell what the hidden SQL says.
    found = client.get(reverse("admin:reports_queryrun_changelist"), {"q": "client-secret"})
    assert reverse("admin:reports_queryrun_change", args=[runs[0].pk]) not in found.content.decode()
    everything = client.get(reverse("admin:reports_queryrun_changelist")).content.decode()
    assert reverse("admin:reports_queryrun_change", args=[runs[0].pk]) in everything
