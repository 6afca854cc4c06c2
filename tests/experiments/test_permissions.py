"""Who sees and changes which experiment, decided in one place, in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.http import Http404
from guardian.shortcuts import assign_perm

from apps.experiments.permissions import can_change_experiment
from apps.experiments.selectors import experiment_get_for_user, experiments_for_user
from apps.experiments.services import _on_primary
from tests.experiments.factories import ExperimentFactory
from tests.experiments.roles import member, ux_team
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=["default", "experiments"])


def test_ux_members_see_every_experiment_and_change_only_their_teams():
    mine, theirs = ux_team("ux"), ux_team("ux-growth")
    me = member(mine)
    own = ExperimentFactory(owning_team_id=mine.pk)
    other = ExperimentFactory(owning_team_id=theirs.pk)
    assert set(experiments_for_user(user=me)) == {own, other}
    assert can_change_experiment(me, own) is True
    assert can_change_experiment(me, other) is False


def test_superusers_change_everything_and_strangers_see_nothing():
    experiment = ExperimentFactory()
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert can_change_experiment(admin, experiment)
    stranger = UserFactory()
    assert list(experiments_for_user(user=stranger)) == []
    assert not can_change_experiment(stranger, experiment)
    with pytest.raises(Http404):
        experiment_get_for_user(user=stranger, experiment_id=experiment.pk)


@pytest.mark.parametrize("count", [3, 30])
def test_object_grants_alone_show_exactly_the_granted_experiments_in_fixed_queries(
    count, django_assert_num_queries
):
    # A marketing analyst granted two experiments by an admin, without the UX permission.
    group = Group.objects.create(name="analysts")
    analyst = UserFactory()
    analyst.groups.add(group)
    experiments = ExperimentFactory.create_batch(count)
    granted = experiments[:2]
    for experiment in granted:
        assign_perm("experiments.view_experiment", group, _on_primary(experiment))
    from django.db import connections

    with django_assert_num_queries(4, connection=connections["default"]):
        ids = {e.pk for e in experiments_for_user(user=analyst)}
    assert ids == {e.pk for e in granted}


def test_a_model_level_change_permission_does_not_open_other_teams_experiments():
    group = ux_team("ux")
    group.permissions.add(Permission.objects.get(codename="change_experiment"))
    outsider = member(group)
    experiment = ExperimentFactory(owning_team_id=ux_team("ux-growth").pk)
    assert can_change_experiment(outsider, experiment) is False
