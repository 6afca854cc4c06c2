"""Every experiments query goes to ``experiments`` or ``experiments_read``; none to ``default``."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.experiments import buffer
from apps.experiments.analysis import experiments_results_refresh
from apps.experiments.services import experiment_clone, experiment_transition
from pinstablr.db.router import TopologyRouter
from tests.experiments.factories import ExperimentFactory
from tests.experiments.roles import member, ux_team
from tests.factories import PhotoFactory, UserFactory

EXPERIMENT_MODELS = list(apps.get_app_config("experiments").get_models())
router = TopologyRouter()


@pytest.mark.parametrize("model", EXPERIMENT_MODELS, ids=lambda m: m.__name__)
def test_the_router_sends_every_experiments_model_to_the_experiments_database(model):
    assert router.db_for_read(model) == "experiments"
    assert router.db_for_write(model) == "experiments"
    assert router.allow_migrate("experiments", "experiments", model._meta.model_name)
    for alias in ("default", "experiments_read", "reporting", "replica_1"):
        assert not router.allow_migrate(alias, "experiments", model._meta.model_name)


def test_the_experiments_app_has_every_model_of_the_schema():
    names = {model.__name__ for model in EXPERIMENT_MODELS}
    assert names == {
        "Experiment",
        "Variant",
        "ForcedVariant",
        "Exposure",
        "Event",
        "ExperimentResult",
    }


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_whole_experiment_touches_experiment_tables_only_through_its_two_aliases(client):
    aliases = list(connections)
    with ExitStack() as stack:
        captured = {a: stack.enter_context(CaptureQueriesContext(connections[a])) for a in aliases}
        team = ux_team("ux")
        owner = member(team)
        experiment = ExperimentFactory(owning_team_id=team.pk, key="home-feed-layout")
        experiment_transition(experiment=experiment, action="start", actor=owner)
        visitor = UserFactory()
        PhotoFactory(owner=visitor)
        client.force_login(visitor)
        assert client.get("/").status_code == 200
        api = APIClient()
        api.force_authenticate(visitor)
        api.get("/api/v1/experiments/assignments/", {"keys": "home-feed-layout"})
        buffer.flush()
        experiment.refresh_from_db()
        experiment.started_at = timezone.now() - timedelta(days=1)
        experiment.save()
        experiments_results_refresh()
        experiment_clone(experiment=experiment, actor=owner)
        client.force_login(owner)
        client.get(f"/admin/experiments/experiment/{experiment.pk}/change/")
        client.get(f"/admin/experiments/experiment/{experiment.pk}/results/")
    tables = [m._meta.db_table for m in EXPERIMENT_MODELS]
    for alias, context in captured.items():
        touching = [
            q["sql"] for q in context.captured_queries if any(t in q["sql"] for t in tables)
        ]
        if alias in ("experiments",):
            assert touching, "the experiments database was used"
        else:
            assert touching == [], f"{alias} ran experiments queries: {touching[:2]}"
    analysis = [q["sql"] for q in captured["experiments_read"].captured_queries]
    assert any("photos_like" in sql for sql in analysis)  # production data, read for UX
    assert not any("photos_like" in q["sql"] for q in captured["default"].captured_queries)
