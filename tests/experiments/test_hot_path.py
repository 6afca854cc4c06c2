"""Variants on real pages: no experiments query once warm, exposures batched, cache safe."""

from __future__ import annotations

import json

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.experiments import buffer, snapshot
from apps.experiments.assignment import UNIT_COOKIE
from apps.experiments.models import Experiment, Exposure
from tests.experiments.factories import ExperimentFactory
from tests.factories import PhotoFactory, UserFactory
from tests.services import redis_cache

pytestmark = pytest.mark.django_db(databases=["default", "experiments"])


def running(key: str, **fields) -> Experiment:
    return ExperimentFactory(
        key=key, status=Experiment.Status.RUNNING, started_at=timezone.now(), **fields
    )


@pytest.fixture
def home_experiments():
    layout = running(
        "home-feed-layout",
        variants=[
            {"key": "grid", "weight": 50, "is_control": True},
            {"key": "list", "weight": 50},
        ],
    )
    prompt = running(
        "home-upload-prompt",
        variants=[
            {"key": "none", "weight": 50, "is_control": True},
            {"key": "card", "weight": 50, "config": {"headline": "Show us your week"}},
        ],
    )
    return layout, prompt


def experiment_queries(client, path: str) -> tuple[int, object]:
    with CaptureQueriesContext(connections["experiments"]) as experiments:
        response = client.get(path)
    return len(experiments), response


def test_a_page_with_two_running_experiments_costs_no_experiments_query_once_warm(
    client, home_experiments
):
    client.force_login(UserFactory())
    PhotoFactory.create_batch(3)
    cold, response = experiment_queries(client, "/")
    assert response.status_code == 200
    assert cold > 0  # the live experiments were read once
    for _ in range(3):
        warm, response = experiment_queries(client, "/")
        assert response.status_code == 200
        assert warm == 0


def test_once_the_local_copy_is_old_the_shared_cache_serves_it_without_a_query(
    client, home_experiments, monkeypatch
):
    client.force_login(UserFactory())
    client.get("/")
    snapshot.forget_local()  # as another process, or this one after LOCAL_SECONDS
    queries, response = experiment_queries(client, "/")
    assert response.status_code == 200
    assert queries == 0


def test_the_variant_shows_and_stays_the_same_for_a_person(client, home_experiments):
    _layout, _ = home_experiments
    seen = {}
    for _ in range(12):
        user = UserFactory()
        client.force_login(user)
        html = client.get("/").content.decode()
        seen[user.pk] = "grid grid-list" in html
        assert ("grid grid-list" in client.get("/").content.decode()) is seen[user.pk]
    assert set(seen.values()) == {True, False}  # both layouts are served


def test_the_first_exposure_is_queued_once_and_written_in_one_bulk_insert(client, home_experiments):
    user = UserFactory()
    client.force_login(user)
    for _ in range(3):
        client.get("/")
    queued = buffer._local["exposures"]
    assert sorted(r.experiment_id for r in queued) == sorted(e.pk for e in home_experiments)
    with CaptureQueriesContext(connections["experiments"]) as queries:
        assert buffer.flush() == 2
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    rows = Exposure.objects.filter(unit_id=f"u{user.pk}")
    assert {row.experiment_id for row in rows} == {e.pk for e in home_experiments}
    assert all(row.user_id == user.pk for row in rows)


def test_a_change_to_an_experiment_shows_on_the_next_request(
    client, home_experiments, django_capture_on_commit_callbacks
):
    layout, _ = home_experiments
    client.force_login(UserFactory())
    client.get("/")
    with django_capture_on_commit_callbacks(execute=True, using="experiments"):
        layout.status = Experiment.Status.PAUSED
        layout.save()
    html = client.get("/").content.decode()
    assert "grid-list" not in html  # paused: everyone sees the control


def test_signed_out_visitors_get_the_cached_page_with_no_variant_and_no_cookie(client):
    running(
        "home-feed-layout",
        audience="everyone",
        variants=[
            {"key": "grid", "weight": 1, "is_control": True},
            {"key": "list", "weight": 99},
        ],
    )
    PhotoFactory.create_batch(2)
    for _ in range(2):
        response = client.get("/")
        assert response.status_code == 200
        assert UNIT_COOKIE not in response.cookies
        assert "grid-list" not in response.content.decode()
    assert buffer._local["exposures"] == []


def test_with_the_experiments_database_unreadable_pages_show_the_controls(
    client, home_experiments, monkeypatch
):
    def broken():
        raise ConnectionError("experiments database unreachable")

    monkeypatch.setattr(snapshot, "build_snapshot", broken)
    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 200
    assert "grid-list" not in response.content.decode()
    assert buffer._local["exposures"] == []


@pytest.mark.redis
def test_with_redis_warm_pages_cost_no_experiments_query_and_exposures_wait_in_redis(
    client, home_experiments, settings, redis_url
):
    settings.CACHES = redis_cache(redis_url)
    from django_redis import get_redis_connection

    redis = get_redis_connection("default")
    redis.delete(buffer.EXPOSURES_KEY, buffer.EVENTS_KEY)
    redis.delete(":1:ver:experiments")
    try:
        user = UserFactory()
        client.force_login(user)
        client.get("/")
        snapshot.forget_local()  # another web server: shares only Redis
        for _ in range(2):
            queries, response = experiment_queries(client, "/")
            assert response.status_code == 200
            assert queries == 0
        queued = [json.loads(item) for item in redis.lrange(buffer.EXPOSURES_KEY, 0, -1)]
        assert sorted(item["experiment_id"] for item in queued) == sorted(
            e.pk for e in home_experiments
        )
        assert Exposure.objects.count() == 0
        assert buffer.flush() == 2
        assert Exposure.objects.filter(unit_id=f"u{user.pk}").count() == 2
        assert redis.llen(buffer.EXPOSURES_KEY) == 0
    finally:
        redis.delete(buffer.EXPOSURES_KEY, buffer.EVENTS_KEY)
