"""/healthz and /readyz: what a load balancer and Kubernetes see, and who sees the detail.

Anyone can reach /readyz, so it answers only ``ok``, ``degraded`` or ``unavailable`` (and the
status code probes act on); which server failed and why goes only to a caller with the
metrics token or a signed-in member of the ops team.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connections
from django.db.utils import load_backend

from pinstablr import health
from pinstablr.db.config import PRIMARY, _config
from tests.factories import UserFactory, team_member
from tests.services import free_port

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

TOKEN = "readiness-test-token-3f9a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def _metrics_token(settings) -> None:
    settings.PINSTABLR_METRICS_TOKEN = TOKEN


@contextmanager
def unreachable(alias: str) -> Iterator[None]:
    """``alias`` points at a MariaDB address where nothing listens, as when its server dies."""
    url = f"mysql://pinstablr:secret-password@127.0.0.1:{free_port()}/pinstablr"
    settings_dict = {**connections.settings[alias], **_config(url, read_only=alias != PRIMARY)}
    dead = load_backend("django.db.backends.mysql").DatabaseWrapper(settings_dict, alias)
    alive = connections[alias]
    connections[alias] = dead
    try:
        yield
    finally:
        dead.close()
        connections[alias] = alive


def assert_public(body: dict) -> None:
    """Only the status: no alias, check, lag or error of any kind."""
    assert set(body) == {"status"}


def test_healthz_answers_without_touching_any_server(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_anonymous_callers_get_only_the_status(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_the_metrics_token_shows_every_check(client):
    response = client.get("/readyz", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"primary", "replicas", "cache", "broker"}
    assert body["checks"]["replicas"]["replica_1"]["ok"] is True
    assert body["checks"]["replicas"]["replica_1"]["lag_seconds"] == 0.0


def test_an_ops_member_signed_in_sees_every_check(client):
    client.force_login(team_member("ops"))
    body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"primary", "replicas", "cache", "broker"}


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Token {TOKEN}", TOKEN, "Bearer ", "Bearer"],
)
def test_a_stranger_with_a_wrong_token_gets_only_the_status(client, authorization):
    response = client.get("/readyz", headers={"Authorization": authorization})
    assert response.status_code == 200
    assert_public(response.json())


def test_without_a_configured_token_no_token_shows_the_detail(client, settings):
    settings.PINSTABLR_METRICS_TOKEN = ""
    assert_public(client.get("/readyz", headers={"Authorization": "Bearer "}).json())
    assert_public(client.get("/readyz", headers={"Authorization": "Bearer x"}).json())


def test_signed_in_people_outside_ops_get_only_the_status(client):
    for person in (UserFactory(), UserFactory(is_staff=True), team_member("marketing")):
        client.force_login(person)
        assert_public(client.get("/readyz").json())


def test_an_unreachable_replica_is_degraded_and_its_error_stays_private(client):
    with unreachable("replica_1"):
        anonymous = client.get("/readyz")
        detailed = client.get("/readyz", headers=AUTH)
    assert anonymous.status_code == detailed.status_code == 200
    assert anonymous.json() == {"status": "degraded"}
    replica = detailed.json()["checks"]["replicas"]["replica_1"]
    assert replica["ok"] is False
    assert replica["serving_reads"] is False
    assert "Can't connect" in replica["error"]
    for private in ("Can't connect", "127.0.0.1", "replica_1", "pinstablr", "error"):
        assert private not in anonymous.content.decode()


def test_an_unreachable_primary_is_503_with_no_exception_text_for_anonymous(client):
    with unreachable(PRIMARY):
        anonymous = client.get("/readyz")
        detailed = client.get("/readyz", headers=AUTH)
    assert anonymous.status_code == detailed.status_code == 503
    assert anonymous.json() == {"status": "unavailable"}
    assert "Can't connect" in detailed.json()["checks"]["primary"]["error"]
    for private in ("Can't connect", "OperationalError", "127.0.0.1", "primary", "error"):
        assert private not in anonymous.content.decode()


def test_an_ops_member_during_a_primary_outage_gets_503_not_a_server_error(client):
    """Who they are lives on the primary: unreadable, so they get the public answer."""
    client.force_login(team_member("ops"))
    with unreachable(PRIMARY):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_the_broker_down_is_503(client, settings):
    from pinstablr.celery import app

    app.conf.broker_url = "amqp://guest:guest@127.0.0.1:1//"
    try:
        anonymous = client.get("/readyz")
        detailed = client.get("/readyz", headers=AUTH)
    finally:
        app.conf.broker_url = settings.CELERY_BROKER_URL
    assert anonymous.status_code == detailed.status_code == 503
    assert anonymous.json() == {"status": "unavailable"}
    assert detailed.json()["checks"]["broker"]["ok"] is False


def test_a_check_that_raises_is_reported_with_its_error_only_in_the_detail(client, monkeypatch):
    def primary_down():
        raise OperationalError("Can't connect to MySQL server on 'primary.db.internal'")

    monkeypatch.setattr(health, "check_primary", primary_down)
    assert client.get("/readyz").json() == {"status": "unavailable"}
    detail = client.get("/readyz", headers=AUTH).json()["checks"]["primary"]
    assert detail["error"].startswith("OperationalError: Can't connect")


def test_the_probe_with_the_token_reads_no_session(client, django_assert_num_queries):
    """Only the readiness checks' own statement on the primary: no session or user read."""
    client.force_login(team_member("ops"))
    with django_assert_num_queries(1):
        client.get("/readyz", headers=AUTH)
