"""Experiments and their variants, in the ``experiments`` database."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group

from apps.experiments.models import Experiment, Variant


class ExperimentFactory(factory.django.DjangoModelFactory):
    """A draft with a control and a treatment (50/50), its team granted change and view.

    ``owning_team_id`` is an auth Group's id; without one, a new group is made.
    ``variants=[...]`` (dicts) replaces the default pair; ``variants=[]`` makes none.
    """

    class Meta:
        model = Experiment
        database = "experiments"
        skip_postgeneration_save = True

    key = factory.Sequence(lambda n: f"experiment-{n}")
    name = factory.LazyAttribute(lambda e: f"Experiment {e.key}")
    hypothesis = "Showing more photos at once makes people like more of them."
    owning_team_id = factory.LazyFunction(
        lambda: Group.objects.create(name=f"ux-team-{Group.objects.count() + 1}").pk
    )
    primary_metric = "liked_photo"
    audience = Experiment.Audience.SIGNED_IN

    @factory.post_generation
    def variants(self, create, extracted, **kwargs):
        if not create:
            return
        rows = (
            extracted
            if extracted is not None
            else [
                {"key": "control", "weight": 50, "is_control": True},
                {"key": "treatment", "weight": 50},
            ]
        )
        # In bulk: a factory may make an experiment that has already started.
        Variant.objects.bulk_create(Variant(experiment=self, **row) for row in rows)

    @factory.post_generation
    def grant(self, create, extracted, **kwargs):
        if create and extracted is not False:
            from apps.experiments.services import experiment_grant_team

            experiment_grant_team(experiment=self)


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant
        database = "experiments"

    experiment = factory.SubFactory(ExperimentFactory, variants=[])
    key = factory.Sequence(lambda n: f"variant-{n}")
    weight = 50
