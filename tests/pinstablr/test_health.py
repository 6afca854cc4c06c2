"""/healthz and /readyz: what a load balancer and Kubernetes see."""

import pytest
from django.db import OperationalError

from pinstablr import health

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_healthz_answers_without_touching_any_server(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_reports_every_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"primary", "replicas", "cache", "broker"}
    assert body["checks"]["replicas"]["replica_1"]["ok"] is True
    assert body["checks"]["replicas"]["replica_1"]["lag_seconds"] == 0.0


def test_readyz_is_503_when_the_primary_is_down(client, monkeypatch):
    def primary_down():
        raise OperationalError("Can't connect to MySQL server on 'primary'")

    monkeypatch.setattr(health, "check_primary", primary_down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "Can't connect" in response.json()["checks"]["primary"]["error"]


def test_readyz_is_503_when_the_broker_is_down(client, settings):
    from pinstablr.celery import app

    app.conf.broker_url = "amqp://guest:guest@127.0.0.1:1//"
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = settings.CELERY_BROKER_URL
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_readyz_is_degraded_not_down_when_a_replica_is(client, monkeypatch):
    from pinstablr.db.inspect import AliasReport

    monkeypatch.setattr(
        health, "inspect_alias",
        lambda alias: AliasReport(alias, "replica", False, None, None, "connection refused"),
    )  # fmt: skip
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["replicas"]["replica_1"]["serving_reads"] is False
