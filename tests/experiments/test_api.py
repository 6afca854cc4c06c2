"""The JS client's endpoints: assignments (sticky by a signed cookie) and conversion events."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.experiments import buffer
from apps.experiments.assignment import UNIT_COOKIE
from apps.experiments.models import Experiment, Exposure, ForcedVariant
from tests.experiments.factories import ExperimentFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=["default", "experiments"])
URL = "/api/v1/experiments/assignments/"


def running(**fields) -> Experiment:
    return ExperimentFactory(status=Experiment.Status.RUNNING, started_at=timezone.now(), **fields)


def test_a_signed_out_visitor_gets_a_cookie_and_keeps_the_same_variant():
    running(key="explore-banner", audience="everyone")
    client = APIClient()
    first = client.get(URL, {"keys": "explore-banner"})
    assert first.status_code == 200
    assert first["Cache-Control"] == "private, no-store"
    cookie = first.cookies[UNIT_COOKIE]
    assert cookie["httponly"]
    assert cookie["max-age"] > 365 * 24 * 3600
    chosen = first.json()["assignments"]["explore-banner"]
    assert chosen["in_experiment"] is True
    for _ in range(3):
        again = client.get(URL, {"keys": "explore-banner"})
        assert UNIT_COOKIE not in again.cookies  # set once
        assert again.json()["assignments"]["explore-banner"] == chosen
    assert len(buffer._local["exposures"]) == 1  # the first exposure only


def test_a_forged_unit_cookie_is_ignored():
    running(key="explore-banner", audience="everyone")
    client = APIClient()
    client.cookies[UNIT_COOKIE] = "a" * 32
    response = client.get(URL, {"keys": "explore-banner"})
    assert response.cookies[UNIT_COOKIE].value != "a" * 32  # a new, signed one


def test_signed_in_users_are_assigned_by_their_id_on_every_device():
    running(key="feed-layout")
    user = UserFactory()
    answers = []
    for _ in range(2):
        client = APIClient()
        client.force_authenticate(user)
        response = client.get(URL, {"keys": "feed-layout"})
        assert UNIT_COOKIE not in response.cookies
        answers.append(response.json()["assignments"]["feed-layout"]["variant"])
    assert answers[0] == answers[1]


def test_outside_the_audience_the_control_is_shown_and_nothing_counted():
    running(key="feed-layout", audience="signed_in")
    response = APIClient().get(URL, {"keys": "feed-layout"})
    assert response.json()["assignments"]["feed-layout"] == {
        "variant": "control",
        "config": {},
        "in_experiment": False,
        "forced": False,
    }
    assert UNIT_COOKIE not in response.cookies
    assert buffer._local["exposures"] == []


def test_an_unknown_experiment_answers_the_control():
    body = APIClient().get(URL, {"keys": "no-such-thing"}).json()
    assert body["assignments"]["no-such-thing"]["variant"] == "control"


def test_without_keys_every_running_experiment_is_listed_and_no_exposure_logged():
    running(key="one", audience="everyone")
    running(key="two", audience="everyone")
    ExperimentFactory(key="draft-one", audience="everyone")
    body = APIClient().get(URL).json()
    assert set(body["assignments"]) == {"one", "two"}
    assert buffer._local["exposures"] == []


@pytest.mark.parametrize("keys", ["Bad Key", ",".join(f"k{i}" for i in range(21))])
def test_malformed_keys_are_a_400_in_the_error_shape(keys):
    response = APIClient().get(URL, {"keys": keys})
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400


def test_a_qa_override_wins_and_is_never_counted():
    experiment = running(key="feed-layout")
    user = UserFactory()
    ForcedVariant.objects.create(
        experiment=experiment, user_id=user.pk, variant=experiment.variants.get(key="treatment")
    )
    client = APIClient()
    client.force_authenticate(user)
    chosen = client.get(URL, {"keys": "feed-layout"}).json()["assignments"]["feed-layout"]
    assert chosen["variant"] == "treatment"
    assert chosen["forced"] is True
    assert chosen["in_experiment"] is False
    assert buffer._local["exposures"] == []


def test_staff_can_force_a_variant_with_a_query_parameter_and_others_cannot():
    running(key="feed-layout")
    for is_staff, expected_forced in ((True, True), (False, False)):
        client = APIClient()
        client.force_authenticate(UserFactory(is_staff=is_staff))
        chosen = client.get(
            URL, {"keys": "feed-layout", "force_variant": "feed-layout:treatment"}
        ).json()["assignments"]["feed-layout"]
        assert chosen["forced"] is expected_forced
        if expected_forced:
            assert chosen["variant"] == "treatment"


def test_a_draft_can_be_previewed_by_staff_before_it_starts():
    ExperimentFactory(key="next-idea")
    client = APIClient()
    client.force_authenticate(UserFactory(is_staff=True))
    chosen = client.get(URL, {"keys": "next-idea", "force_variant": "next-idea:treatment"}).json()
    assert chosen["assignments"]["next-idea"]["variant"] == "treatment"


def test_conversion_events_are_queued_for_units_that_have_one():
    running(key="explore-banner", audience="everyone")
    client = APIClient()
    assert client.post(
        "/api/v1/experiments/events/", {"metric": "photo_opened"}, format="json"
    ).json() == {"recorded": False}
    client.get(URL, {"keys": "explore-banner"})
    response = client.post("/api/v1/experiments/events/", {"metric": "photo_opened"}, format="json")
    assert response.status_code == 202
    assert response.json() == {"recorded": True}
    assert [e.metric for e in buffer._local["events"]] == ["photo_opened"]
    buffer.flush_local()
    assert Exposure.objects.count() == 1


@pytest.mark.parametrize("payload", [{"metric": "liked_photo"}, {"metric": "x"}, {"value": 1}])
def test_only_client_recordable_metrics_are_accepted(payload):
    response = APIClient().post("/api/v1/experiments/events/", payload, format="json")
    assert response.status_code == 400
