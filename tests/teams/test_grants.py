"""Object grants at scale and at once: lists cost the same queries for 10 or 1,000 granted
objects, and a revoked grant stops working on the very next request."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.test.utils import CaptureQueriesContext
from guardian.models import GroupObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from apps.experiments.models import Experiment
from apps.experiments.selectors import experiments_for_user
from apps.reports.models import Report, ReportGroupObjectPermission
from apps.reports.selectors import reports_for_user
from tests.experiments.factories import ExperimentFactory
from tests.factories import UserFactory, team, team_member
from tests.reports.factories import ReportFactory

pytestmark = pytest.mark.django_db(databases=["default", "experiments"])


def queries_to_list(function, user) -> tuple[int, int]:
    """(queries on both databases, objects listed) for ``list(function(user=user))``, by a
    user object fresh from the database, as in a new request (no permission cache), in a process
    that has served one before (content types cached)."""
    list(function(user=type(user).objects.get(pk=user.pk)))
    user = type(user).objects.get(pk=user.pk)
    contexts = [CaptureQueriesContext(connections[alias]) for alias in ("default", "experiments")]
    for context in contexts:
        context.__enter__()
    listed = len(list(function(user=user)))
    for context in contexts:
        context.__exit__(None, None, None)
    return sum(len(context) for context in contexts), listed


def grant_reports(count: int, group) -> None:
    start = Report.objects.count()
    reports = Report.objects.bulk_create(
        Report(key=f"r{start + i}", name=f"Report {start + i}") for i in range(count)
    )
    view = ContentType.objects.get_for_model(Report).permission_set.get(codename="view_report")
    ReportGroupObjectPermission.objects.bulk_create(
        ReportGroupObjectPermission(permission=view, group=group, content_object=report)
        for report in reports
    )


def test_a_marketing_member_lists_1000_granted_reports_in_the_queries_of_10():
    marketing = team("marketing").group
    member = team_member("marketing")
    grant_reports(10, marketing)
    few = queries_to_list(reports_for_user, member)
    grant_reports(990, marketing)
    many = queries_to_list(reports_for_user, member)
    assert (few[1], many[1]) == (10, 1000)
    assert few[0] == many[0]


def test_someone_granted_1000_experiments_lists_them_in_the_queries_of_10():
    analyst = UserFactory()
    group = team("analysts", purpose="marketing").group
    analyst.groups.add(group)
    view = ContentType.objects.get_for_model(Experiment).permission_set.get(
        codename="view_experiment"
    )

    def grant(count: int) -> None:
        experiments = ExperimentFactory.create_batch(count)
        GroupObjectPermission.objects.bulk_create(
            GroupObjectPermission(
                permission=view, group=group, content_type=view.content_type, object_pk=str(e.pk)
            )
            for e in experiments
        )

    grant(10)
    few = queries_to_list(experiments_for_user, analyst)
    grant(990)
    many = queries_to_list(experiments_for_user, analyst)
    assert (few[1], many[1]) == (10, 1000)
    assert few[0] == many[0]


def test_a_revoked_report_grant_stops_working_on_the_next_request(client):
    marketing = team("marketing").group
    report = ReportFactory(key="signups")
    assign_perm("reports.view_report", marketing, report)
    member = team_member("marketing")
    client.force_login(member)
    assert client.get(f"/reports/r/{report.key}/").status_code == 200
    assert client.get(f"/reports/r/{report.key}/").status_code == 200  # warm
    remove_perm("reports.view_report", marketing, report)
    assert client.get(f"/reports/r/{report.key}/").status_code == 404
    # Grants are joined on the primary, never on a replica that may not have the revoke yet.
    assert reports_for_user(user=member).db == "default"


def test_a_revoked_experiment_grant_stops_working_on_the_next_request(client):
    owners, growth = team("ux"), team("ux-growth", purpose="ux")
    experiment = ExperimentFactory(owning_team_id=owners.group.pk)
    member = team_member("ux-growth")
    from apps.experiments.services import _on_primary

    assign_perm("experiments.change_experiment", growth.group, _on_primary(experiment))
    client.force_login(member)
    url = f"/admin/experiments/experiment/{experiment.pk}/change/"
    assert client.post(url, {}).status_code == 200  # may change: the form comes back
    remove_perm("experiments.change_experiment", growth.group, _on_primary(experiment))
    assert client.post(url, {}).status_code == 403
