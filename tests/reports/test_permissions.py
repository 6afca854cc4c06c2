"""Who sees which report and saved query, and who may use the console (permissions.py and
the ``*_for_user`` selectors)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from guardian.shortcuts import assign_perm

from apps.reports.models import Report
from apps.reports.permissions import (
    can_edit_saved_query,
    can_manage_saved_query,
    can_run_console,
    can_view_sql,
)
from apps.reports.selectors import (
    console_targets_for_user,
    report_get_for_user,
    reports_for_user,
    saved_queries_for_user,
    saved_query_get_for_user,
)
from apps.reports.services.queries import saved_query_share, saved_query_unshare
from tests.factories import UserFactory

from .conftest import group_with
from .factories import ReportFactory, SavedQueryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports():
    return [ReportFactory(key=key) for key in ("signups", "uploads", "engagement")]


def test_a_team_member_sees_only_the_reports_granted_to_their_group(team_member, reports):
    member = team_member("marketing")
    assign_perm("reports.view_report", member.groups.get(), reports[0])
    assert list(reports_for_user(user=member)) == [reports[0]]
    assert report_get_for_user(user=member, key="signups") == reports[0]
    with pytest.raises(Http404):
        report_get_for_user(user=member, key="uploads")


def test_the_team_permission_alone_shows_nothing(team_member, reports):
    other_marketing = team_member("marketing-emea")
    assert list(reports_for_user(user=other_marketing)) == []


def test_an_object_grant_without_the_team_permission_shows_nothing(reports):
    stranger = UserFactory()
    assign_perm("reports.view_report", stranger, reports[0])
    assert list(reports_for_user(user=stranger)) == []


def test_direct_user_grants_count_too(team_member, reports):
    member = team_member("marketing-emea")
    assign_perm("reports.view_report", member, reports[1])
    assert list(reports_for_user(user=member)) == [reports[1]]


def test_superusers_see_every_report_and_anonymous_none(reports):
    admin = UserFactory(is_superuser=True)
    assert set(reports_for_user(user=admin)) == set(Report.objects.all())
    assert list(reports_for_user(user=AnonymousUser())) == []
    inactive = UserFactory(is_active=False, is_superuser=True)
    assert list(reports_for_user(user=inactive)) == []


@pytest.mark.parametrize("count", [3, 40])
def test_listing_visible_reports_costs_the_same_queries_for_3_or_40(
    team_member, count, django_assert_num_queries
):
    member = team_member("marketing")
    group = member.groups.get()
    for n in range(count):
        assign_perm("reports.view_report", group, Report.objects.create(key=f"r{n}", name=f"R{n}"))
    member = type(member).objects.get(pk=member.pk)
    # Permissions of the user (model level), then the one query for the reports.
    with django_assert_num_queries(3):
        assert len(list(reports_for_user(user=member))) == count


def test_saved_queries_are_seen_by_their_owner_and_whom_they_are_shared_with(team_member):
    owner = team_member("marketing")
    colleague = team_member("marketing")
    outsider = team_member("marketing-emea")
    query = SavedQueryFactory(owner=owner)
    assert list(saved_queries_for_user(user=owner)) == [query]
    assert list(saved_queries_for_user(user=colleague)) == []
    saved_query_share(query=query, group=owner.groups.get(), with_sql=False)
    assert list(saved_queries_for_user(user=colleague)) == [query]
    assert saved_query_get_for_user(user=colleague, query_id=query.pk) == query
    with pytest.raises(Http404):
        saved_query_get_for_user(user=outsider, query_id=query.pk)
    # Results, not the SQL, unless said so; never editing or sharing it.
    assert can_view_sql(owner, query)
    assert not can_view_sql(colleague, query)
    assert not can_edit_saved_query(colleague, query)
    assert not can_manage_saved_query(colleague, query)
    saved_query_share(query=query, group=owner.groups.get(), with_sql=True)
    assert can_view_sql(type(colleague).objects.get(pk=colleague.pk), query)
    saved_query_unshare(query=query, group=owner.groups.get())
    assert list(saved_queries_for_user(user=colleague)) == []


def test_a_query_shared_with_a_person_outside_the_teams_stays_hidden(team_member):
    owner = team_member("marketing")
    stranger = UserFactory()
    query = SavedQueryFactory(owner=owner)
    saved_query_share(query=query, user=stranger, with_sql=True)
    with pytest.raises(Http404):
        saved_query_get_for_user(user=stranger, query_id=query.pk)


def test_console_targets_follow_the_team_permissions(team_member):
    marketing = team_member("marketing")
    ux = team_member("ux", perms=("experiments.use_analysis_console",))
    assert console_targets_for_user(user=marketing) == ["reporting"]
    assert console_targets_for_user(user=ux) == ["experiments_read", "experiments"]
    assert console_targets_for_user(user=UserFactory()) == []
    admin = UserFactory(is_superuser=True)
    assert console_targets_for_user(user=admin) == ["reporting", "experiments_read", "experiments"]
    for user in (marketing, ux, admin):
        assert not can_run_console(user, "default")
        assert not can_run_console(user, "replica_1")


def test_a_member_who_leaves_the_team_loses_the_console_and_the_reports(team_member, reports):
    member = team_member("marketing")
    group = member.groups.get()
    assign_perm("reports.view_report", group, reports[0])
    member.groups.remove(group)
    member = type(member).objects.get(pk=member.pk)
    assert list(reports_for_user(user=member)) == []
    assert not can_run_console(member, "reporting")
    group_with("marketing", ())  # the group itself is unchanged
