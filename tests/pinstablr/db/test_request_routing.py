"""Read routing through real requests: replicas for reads, the primary after a write."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from pinstablr.db.consistency import COOKIE_NAME
from pinstablr.db.replicas import Probe, ReplicaPool, set_pool
from tests.factories import UserFactory

# Committed data: the replica alias opens its own connection to the same database.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.fixture(autouse=True)
def healthy_replica() -> None:
    set_pool(ReplicaPool(["replica_1"], probe=lambda alias: Probe(lag=0.0, position=None)))


@contextmanager
def queries_per_alias() -> Iterator[dict[str, CaptureQueriesContext]]:
    captured = {
        alias: CaptureQueriesContext(connections[alias]) for alias in ("default", "replica_1")
    }
    for context in captured.values():
        context.__enter__()
    try:
        yield captured
    finally:
        for context in captured.values():
            context.__exit__(None, None, None)


def test_anonymous_reads_go_to_the_replica():
    UserFactory(username="ada")
    with queries_per_alias() as queries:
        response = APIClient().get("/api/v1/users/ada/")
    assert response.status_code == 200
    assert len(queries["replica_1"]) == 1
    assert len(queries["default"]) == 0


def test_after_a_write_the_same_client_reads_the_primary_until_the_pin_expires(settings):
    settings.PINSTABLR_PIN_SECONDS = 30
    client = APIClient()
    client.force_authenticate(UserFactory(username="ada"))
    response = client.patch("/api/v1/me/", {"bio": "new"}, format="json")
    assert response.status_code == 200
    assert COOKIE_NAME in response.cookies

    with queries_per_alias() as queries:
        assert client.get("/api/v1/users/ada/").json()["bio"] == "new"
    assert len(queries["replica_1"]) == 0

    settings.PINSTABLR_PIN_SECONDS = 0
    with queries_per_alias() as queries:
        assert client.get("/api/v1/users/ada/").json()["bio"] == "new"
    assert len(queries["replica_1"]) == 1


def test_a_tampered_consistency_cookie_is_ignored():
    UserFactory(username="ada")
    client = APIClient()
    client.cookies[COOKIE_NAME] = '{"position": null, "written_at": 9999999999}'
    with queries_per_alias() as queries:
        assert client.get("/api/v1/users/ada/").status_code == 200
    assert len(queries["replica_1"]) == 1


def test_a_replica_failing_mid_request_costs_a_retry_on_the_primary_not_an_error():
    UserFactory(username="ada")
    replica = connections["replica_1"]
    replica.ensure_connection()

    def server_gone(execute, sql, params, many, context):
        raise OperationalError(2013, "Lost connection to server during query")

    replica.execute_wrappers.append(server_gone)  # innermost: the server fails
    try:
        with queries_per_alias() as queries:
            response = APIClient().get("/api/v1/users/ada/")
    finally:
        replica.execute_wrappers.remove(server_gone)
    assert response.status_code == 200
    assert response.json()["username"] == "ada"
    assert len(queries["default"]) == 1
    from pinstablr.db.replicas import get_pool

    assert get_pool().is_down("replica_1")
