"""Results from production data (through experiments_read) and events, checked end to end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from scipy import stats as reference

from apps.accounts.models import User
from apps.experiments.analysis import experiment_results_compute, experiments_results_refresh
from apps.experiments.models import Event, Experiment, Exposure
from apps.photos.models import Like
from tests.experiments.factories import ExperimentFactory
from tests.factories import PhotoFactory

# Committed data: experiments_read opens its own connection to the primary's database.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")
START = timezone.now() - timedelta(days=3)


def experiment_with_exposures(counts: dict[str, int], **fields) -> tuple[Experiment, dict]:
    experiment = ExperimentFactory(
        status=Experiment.Status.RUNNING,
        started_at=START,
        primary_metric="liked_photo",
        guardrail_metrics=["likes_given", "photo_opened"],
        **fields,
    )
    variants = {v.key: v for v in experiment.variants.all()}
    User.objects.bulk_create(
        User(username=f"{experiment.key}-{key}-{i}") for key, n in counts.items() for i in range(n)
    )
    users = list(User.objects.filter(username__startswith=f"{experiment.key}-").order_by("id"))
    groups: dict[str, list[User]] = {key: [] for key in counts}
    for user in users:
        groups[user.username.split("-")[-2]].append(user)
    Exposure.objects.bulk_create(
        Exposure(
            experiment=experiment,
            variant=variants[key],
            unit_id=f"u{u.pk}",
            user_id=u.pk,
            exposed_at=START + timedelta(hours=i % 48),
        )
        for key, members in groups.items()
        for i, u in enumerate(members)
    )
    return experiment, groups


def like(users: list[User], *, when, photo) -> None:
    Like.objects.bulk_create(Like(user=u, photo=photo) for u in users)
    Like.objects.filter(user__in=users, photo=photo).update(created_at=when)


def test_rates_lifts_and_p_values_come_from_likes_after_exposure():
    experiment, groups = experiment_with_exposures({"control": 400, "treatment": 400})
    photos = PhotoFactory.create_batch(3)
    after = START + timedelta(days=2, hours=1)  # after every exposure
    like(groups["control"][:40], when=after, photo=photos[0])
    like(groups["treatment"][:70], when=after, photo=photos[0])
    like(groups["treatment"][:20], when=after, photo=photos[1])  # a second like: still one person
    like(groups["control"][300:360], when=START - timedelta(days=1), photo=photos[2])  # before

    with (
        CaptureQueriesContext(connections["default"]) as default,
        CaptureQueriesContext(connections["experiments_read"]) as analysis,
        CaptureQueriesContext(connections["replica_1"]) as replica,
    ):
        result = experiment_results_compute(experiment=experiment)
    assert len(default) == 0
    assert len(replica) == 0
    assert any("photos_like" in q["sql"] for q in analysis.captured_queries)

    primary = result.data["metrics"][0]
    assert primary["key"] == "liked_photo"
    assert primary["role"] == "primary"
    rows = {row["key"]: row for row in primary["variants"]}
    assert (rows["control"]["n"], rows["control"]["conversions"]) == (400, 40)
    assert (rows["treatment"]["n"], rows["treatment"]["conversions"]) == (400, 70)
    comparison = primary["comparisons"][0]
    expected = reference.chi2_contingency([[40, 360], [70, 330]], correction=False)
    assert comparison["p_value"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert comparison["absolute_lift"] == pytest.approx(0.075)
    assert comparison["relative_lift"] == pytest.approx(0.75)
    assert comparison["direction"] == "better"

    likes_given = {row["key"]: row for row in result.data["metrics"][1]["variants"]}
    assert likes_given["treatment"]["value"] == pytest.approx(90 / 400)
    assert likes_given["control"]["value"] == pytest.approx(40 / 400)
    assert result.srm_alarm is False


def test_events_count_only_after_a_units_first_exposure():
    experiment, groups = experiment_with_exposures({"control": 120, "treatment": 120})
    late = START + timedelta(days=2, hours=1)
    Event.objects.bulk_create(
        [
            Event(metric="photo_opened", unit_id=f"u{u.pk}", occurred_at=late)
            for u in groups["treatment"][:30]
        ]
        + [
            Event(metric="photo_opened", unit_id=f"u{u.pk}", occurred_at=START - timedelta(days=1))
            for u in groups["control"][:50]
        ]
        + [
            Event(metric="photo_opened", unit_id=f"u{u.pk}", occurred_at=late)
            for u in groups["control"][:12]
        ]
    )
    result = experiment_results_compute(experiment=experiment)
    opened = {row["key"]: row for row in result.data["metrics"][2]["variants"]}
    assert opened["treatment"]["conversions"] == 30
    assert opened["control"]["conversions"] == 12


def test_a_sample_ratio_mismatch_alarms_and_a_fair_split_does_not():
    skewed, _ = experiment_with_exposures({"control": 600, "treatment": 450})
    fair, _ = experiment_with_exposures({"control": 510, "treatment": 490})
    skewed_result = experiment_results_compute(experiment=skewed)
    fair_result = experiment_results_compute(experiment=fair)
    assert skewed_result.srm_alarm is True
    assert skewed_result.srm_p_value == pytest.approx(
        reference.chisquare([600, 450], [525, 525]).pvalue, rel=1e-9
    )
    assert fair_result.srm_alarm is False


def test_too_few_people_is_flagged_rather_than_called():
    experiment, _groups = experiment_with_exposures({"control": 30, "treatment": 30})
    result = experiment_results_compute(experiment=experiment)
    assert any("Too little data" in w for w in result.data["metrics"][0]["warnings"])


def test_a_big_enough_sample_that_is_still_short_of_the_planned_size_says_so():
    experiment, groups = experiment_with_exposures({"control": 400, "treatment": 400})
    photo = PhotoFactory()
    after = START + timedelta(days=2, hours=1)
    like(groups["control"][:40], when=after, photo=photo)
    like(groups["treatment"][:44], when=after, photo=photo)
    result = experiment_results_compute(experiment=experiment)
    warnings = result.data["metrics"][0]["warnings"]
    assert any("Not conclusive yet" in w for w in warnings)
    assert result.data["metrics"][0]["required_per_variant"] > 400


def test_the_periodic_refresh_stops_ended_experiments_and_computes_live_ones():
    ended, _ = experiment_with_exposures({"control": 5, "treatment": 5}, ends_at=timezone.now())
    live, _ = experiment_with_exposures({"control": 5, "treatment": 5})
    ExperimentFactory(key="just-a-draft")
    assert experiments_results_refresh() == 2
    ended.refresh_from_db()
    assert ended.status == Experiment.Status.STOPPED
    assert ended.stopped_at is not None
    assert live.result.exposures == 10


def test_the_results_page_shows_the_numbers_and_the_charts(client):
    from django.contrib.auth.models import Group

    experiment, groups = experiment_with_exposures({"control": 200, "treatment": 200})
    photo = PhotoFactory()
    like(groups["treatment"][:30], when=START + timedelta(days=2, hours=1), photo=photo)
    experiment_results_compute(experiment=experiment)
    from tests.experiments.roles import member, ux_team

    viewer = member(ux_team("ux-research"))
    assert Group.objects.filter(pk=experiment.owning_team_id).exists()
    client.force_login(viewer)
    html = client.get(f"/admin/experiments/experiment/{experiment.pk}/results/").content.decode()
    assert "Liked a photo" in html
    assert "15.00%" in html
    assert 'id="xp-primary-chart"' in html
    assert "chart.umd.min.js" in html
    assert 'id="xp-results-data"' in html
    assert "Sample ratio: as planned" in html
