"""The admin for experimenters: create, validate, start, lock, refuse other teams, clone."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from guardian.models import GroupObjectPermission

from apps.experiments.models import Experiment, Variant
from apps.experiments.permissions import can_change_experiment
from apps.experiments.services import experiment_transition
from tests.experiments.factories import ExperimentFactory
from tests.experiments.roles import member, ops_member, ux_team

pytestmark = pytest.mark.django_db(databases=["default", "experiments"])
ADD_URL = "/admin/experiments/experiment/add/"
LIST_URL = "/admin/experiments/experiment/"


def change_url(experiment: Experiment) -> str:
    return f"{LIST_URL}{experiment.pk}/change/"


def form_data(team: Group | None = None, variants=None, **fields) -> dict:
    variants = (
        variants
        if variants is not None
        else [
            {"key": "grid", "weight": 50, "is_control": True},
            {"key": "list", "weight": 50},
        ]
    )
    data = {
        "key": "home-feed-layout",
        "name": "Feed layout",
        "hypothesis": "Lists get more likes.",
        "audience": "signed_in",
        "traffic_percent": "100",
        "layer": "",
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
        "primary_metric": "liked_photo",
        "guardrail_metrics": ["photos_uploaded"],
        "minimum_detectable_effect": "5",
        "salt": "salt-1",
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "forced_variants-TOTAL_FORMS": "0",
        "forced_variants-INITIAL_FORMS": "0",
    }
    if team is not None:
        data["owning_team"] = str(team.pk)
    for index, variant in enumerate(variants):
        prefix = f"variants-{index}-"
        if "id" in variant:
            data[prefix + "id"] = str(variant["id"])
        data[prefix + "key"] = variant["key"]
        data[prefix + "weight"] = str(variant["weight"])
        data[prefix + "config"] = variant.get("config", "{}")
        if variant.get("is_control"):
            data[prefix + "is_control"] = "on"
    data.update(fields)
    return data


@pytest.fixture
def owner_team():
    return ux_team("ux")


@pytest.fixture
def owner(owner_team):
    return member(owner_team)


@pytest.fixture
def other():
    return member(ux_team("ux-growth"))


def test_a_ux_member_creates_an_experiment_with_two_variants_owned_by_their_team(
    client, owner, owner_team
):
    client.force_login(owner)
    assert client.get(ADD_URL).status_code == 200
    response = client.post(ADD_URL, form_data(owner_team))
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    experiment = Experiment.objects.get(key="home-feed-layout")
    assert experiment.owning_team_id == owner_team.pk
    assert experiment.created_by_id == owner.pk
    assert experiment.guardrail_metrics == ["photos_uploaded"]
    assert [(v.key, v.weight, v.is_control) for v in experiment.variants.all()] == [
        ("grid", 50, True),
        ("list", 50, False),
    ]
    grants = GroupObjectPermission.objects.filter(group=owner_team, object_pk=str(experiment.pk))
    assert {g.permission.codename for g in grants} == {"change_experiment", "view_experiment"}
    assert can_change_experiment(owner, experiment)


@pytest.mark.parametrize(
    ("variants", "fields", "message"),
    [
        (
            [{"key": "a", "weight": 50, "is_control": True}, {"key": "b", "weight": 40}],
            {},
            "Weights must add up to 100 (they add up to 90).",
        ),
        (
            [{"key": "a", "weight": 50}, {"key": "b", "weight": 50}],
            {},
            "Mark exactly one variant as the control.",
        ),
        (
            [{"key": "a", "weight": 100, "is_control": True}],
            {},
            "An experiment needs at least two variants",
        ),
        (
            [{"key": "a", "weight": 50, "is_control": True}, {"key": "a", "weight": 50}],
            {},
            "Please correct the duplicate data for key.",
        ),
        (None, {"key": "home_feed"}, "Use lower-case letters, digits and single hyphens"),
        (
            None,
            {
                "starts_at_0": "2030-01-02",
                "starts_at_1": "10:00",
                "ends_at_0": "2030-01-01",
                "ends_at_1": "10:00",
            },
            "The end must come after the start.",
        ),
        (
            None,
            {"guardrail_metrics": ["liked_photo"]},
            "The primary metric cannot also be a guardrail.",
        ),
        (None, {"traffic_percent": "0"}, "greater than or equal to 0.01"),
        (
            [
                {"key": "a", "weight": 50, "is_control": True},
                {"key": "b", "weight": 50, "config": "[1, 2]"},
            ],
            {},
            "The configuration must be a JSON object.",
        ),
    ],
)
def test_invalid_designs_are_refused_with_a_reason(
    client, owner, owner_team, variants, fields, message
):
    client.force_login(owner)
    response = client.post(ADD_URL, form_data(owner_team, variants, **fields))
    assert response.status_code == 200
    assert message in response.content.decode(), errors_of(response)
    assert not Experiment.objects.exists()


def test_an_experiment_can_only_belong_to_one_of_the_creators_teams(client, owner):
    stranger_team = ux_team("ux-other")
    client.force_login(owner)
    response = client.post(ADD_URL, form_data(stranger_team))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_once_started_the_variants_and_weights_cannot_be_edited(client, owner, owner_team):
    experiment = ExperimentFactory(owning_team_id=owner_team.pk)
    client.force_login(owner)
    page = client.get(change_url(experiment)).content.decode()
    assert 'name="variants-0-weight"' in page  # a draft: editable

    response = client.post(f"{LIST_URL}{experiment.pk}/transition/start/")
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING
    assert experiment.started_at is not None

    page = client.get(change_url(experiment)).content.decode()
    assert 'name="variants-0-weight"' not in page
    assert 'name="key"' not in page
    assert 'name="salt"' not in page
    assert "variants, weights, key, salt and layer are locked" in page
    ids = list(experiment.variants.values_list("id", flat=True))
    tampered = form_data(
        variants=[
            {"id": ids[0], "key": "control", "weight": 90, "is_control": True},
            {"id": ids[1], "key": "treatment", "weight": 10},
        ],
        key=experiment.key,
        name="Renamed",
        **{"variants-INITIAL_FORMS": "2"},
    )
    response = client.post(change_url(experiment), tampered)
    assert response.status_code == 302, errors_of(response)
    experiment.refresh_from_db()
    assert experiment.name == "Renamed"  # what may change, changed
    assert sorted(experiment.variants.values_list("weight", flat=True)) == [50, 50]


def test_the_model_refuses_changed_weights_after_the_start_whatever_the_caller(owner, owner_team):
    experiment = ExperimentFactory(owning_team_id=owner_team.pk)
    experiment_transition(experiment=experiment, action="start", actor=owner)
    variant = experiment.variants.first()
    variant.weight = 90
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        variant.save()
    with pytest.raises(ValidationError):
        Variant(experiment=experiment, key="late", weight=10).save()


def test_a_member_of_another_team_sees_it_read_only_and_cannot_change_it(client, owner_team, other):
    experiment = ExperimentFactory(owning_team_id=owner_team.pk)
    client.force_login(other)
    listing = client.get(LIST_URL).content.decode()
    assert experiment.key in listing
    page = client.get(change_url(experiment))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Read only: this experiment belongs to ux." in html
    assert 'name="_save"' not in html
    assert 'name="name"' not in html
    assert "/transition/start/" not in html

    assert client.post(change_url(experiment), form_data(key=experiment.key)).status_code == 403
    assert client.post(f"{LIST_URL}{experiment.pk}/transition/start/").status_code == 403
    assert client.get(f"{LIST_URL}{experiment.pk}/transition/start/").status_code == 403
    response = client.post(
        LIST_URL,
        {"action": "start_selected", "_selected_action": [experiment.pk], "confirmed": "yes"},
        follow=True,
    )
    assert "Refused: only the owning team can change" in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.DRAFT


def test_list_actions_ask_for_confirmation_then_act(client, owner, owner_team):
    experiments = ExperimentFactory.create_batch(2, owning_team_id=owner_team.pk)
    client.force_login(owner)
    ids = [e.pk for e in experiments]
    confirm = client.post(LIST_URL, {"action": "start_selected", "_selected_action": ids})
    assert confirm.status_code == 200
    assert "Yes, start them" in confirm.content.decode()
    assert set(Experiment.objects.values_list("status", flat=True)) == {"draft"}
    client.post(LIST_URL, {"action": "start_selected", "_selected_action": ids, "confirmed": "yes"})
    assert set(Experiment.objects.values_list("status", flat=True)) == {"running"}
    client.post(LIST_URL, {"action": "stop_selected", "_selected_action": ids, "confirmed": "yes"})
    assert set(Experiment.objects.values_list("status", flat=True)) == {"stopped"}
    response = client.post(
        LIST_URL,
        {"action": "start_selected", "_selected_action": ids[:1], "confirmed": "yes"},
        follow=True,
    )
    assert "A stopped experiment cannot be started." in response.content.decode()


def test_pause_resume_stop_and_archive_follow_the_lifecycle(owner, owner_team):
    experiment = ExperimentFactory(owning_team_id=owner_team.pk)
    for action, status in [
        ("start", "running"),
        ("pause", "paused"),
        ("start", "running"),
        ("stop", "stopped"),
        ("archive", "archived"),
    ]:
        experiment = experiment_transition(experiment=experiment, action=action, actor=owner)
        assert experiment.status == status
    assert experiment.stopped_at is not None


def test_a_clone_is_a_fresh_draft_owned_by_the_cloners_team(client, owner, owner_team, other):
    original = ExperimentFactory(owning_team_id=owner_team.pk, key="feed-layout")
    experiment_transition(experiment=original, action="start", actor=owner)
    client.force_login(other)
    assert client.get(f"{LIST_URL}{original.pk}/clone/").status_code == 200
    response = client.post(f"{LIST_URL}{original.pk}/clone/")
    assert response.status_code == 302
    clone = Experiment.objects.get(key="feed-layout-2")
    assert clone.status == Experiment.Status.DRAFT
    assert clone.started_at is None
    assert clone.salt != original.salt
    assert clone.owning_team_id == other.groups.get().pk
    assert list(clone.variants.values_list("key", "weight")) == list(
        original.variants.values_list("key", "weight")
    )
    assert can_change_experiment(other, clone)
    assert not can_change_experiment(other, original)


def test_results_are_shown_to_ux_members_and_refused_to_other_staff(
    client, owner, other, owner_team
):
    experiment = ExperimentFactory(owning_team_id=owner_team.pk)
    experiment_transition(experiment=experiment, action="start", actor=owner)
    url = f"{LIST_URL}{experiment.pk}/results/"
    for user in (owner, other):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert "No results yet" in response.content.decode()
    client.force_login(ops_member())
    assert client.get(url).status_code == 403
    assert client.get(change_url(experiment)).status_code == 403


def test_a_qa_override_is_set_by_user_name_after_creation(client, owner, owner_team):
    experiment = ExperimentFactory(owning_team_id=owner_team.pk)
    treatment = experiment.variants.get(key="treatment")
    client.force_login(owner)
    page = client.get(change_url(experiment)).content.decode()
    assert "forced_variants-TOTAL_FORMS" in page
    data = form_data(
        variants=[
            {"id": v.pk, "key": v.key, "weight": v.weight, "is_control": v.is_control}
            for v in experiment.variants.all()
        ],
        key=experiment.key,
        **{
            "variants-INITIAL_FORMS": "2",
            "forced_variants-TOTAL_FORMS": "1",
            "forced_variants-INITIAL_FORMS": "0",
            "forced_variants-0-username": owner.username,
            "forced_variants-0-variant": str(treatment.pk),
            "forced_variants-0-note": "QA",
        },
    )
    response = client.post(change_url(experiment), data)
    assert response.status_code == 302
    assert experiment.forced_variants.get().user_id == owner.pk


def errors_of(response) -> str:
    import re

    return " | ".join(
        re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    )


def test_the_site_experiments_are_loaded_as_drafts_once(owner_team):
    from django.core.management import call_command

    call_command("load_site_experiments")
    call_command("load_site_experiments")
    drafts = Experiment.objects.filter(key__in=["home-feed-layout", "home-upload-prompt"])
    assert [e.status for e in drafts] == ["draft", "draft"]
    assert {e.owning_team_id for e in drafts} == {owner_team.pk}
    assert drafts.get(key="home-upload-prompt").variants.get(key="card").config["button"]


def test_archived_experiments_leave_the_everyday_list(client, owner, owner_team):
    live = ExperimentFactory(owning_team_id=owner_team.pk, key="still-here")
    gone = ExperimentFactory(owning_team_id=owner_team.pk, key="long-gone")
    experiment_transition(experiment=gone, action="archive", actor=owner)
    client.force_login(owner)
    everyday = client.get(LIST_URL).content.decode()
    assert live.key in everyday
    assert gone.key not in everyday
    assert gone.key in client.get(LIST_URL, {"status": "archived"}).content.decode()
    assert gone.key in client.get(LIST_URL, {"status": "all"}).content.decode()
