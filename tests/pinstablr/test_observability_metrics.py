"""/metrics: who may read it, what it holds, and that it never hangs on the broker."""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from kombu import Connection

from pinstablr.db.replicas import Probe, ReplicaPool, set_pool
from pinstablr.observability.cache import FileBasedCache
from pinstablr.observability.queues import QueueDepth, QueueDepthReader, set_reader
from tests.brokers import broker_at
from tests.factories import UserFactory
from tests.services import free_port

pytestmark = pytest.mark.django_db

TOKEN = "metrics-test-token-7d1c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def _metrics_token(settings) -> Iterator[None]:
    settings.PINSTABLR_METRICS_TOKEN = TOKEN
    settings.PINSTABLR_QUEUE_DEPTH_CACHE_SECONDS = 0.0
    set_reader(None)
    yield
    set_reader(None)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus' text format, or None if it is absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        metric, _, value = line.rpartition(" ")
        if line.startswith("#") or not metric:
            continue
        base, _, rest = metric.partition("{")
        found = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if base == name and found == wanted:
            return float(value)
    return None


def ops_member():
    """A signed-in member of an ops team: the group holds teams.view_operations."""
    content_type, _ = ContentType.objects.get_or_create(app_label="teams", model="team")
    permission, _ = Permission.objects.get_or_create(
        codename="view_operations",
        content_type=content_type,
        defaults={"name": "Can view the topology and health of the service"},
    )
    group = Group.objects.create(name=f"ops-{uuid.uuid4().hex[:8]}")
    group.permissions.add(permission)
    user = UserFactory(is_staff=True)
    user.groups.add(group)
    return user


# --- who may read it ---------------------------------------------------------------------


def test_anonymous_visitors_get_the_404_of_a_page_that_does_not_exist(client):
    refused = client.get("/metrics")
    absent = client.get("/no-such-page")
    assert refused.status_code == absent.status_code == 404
    assert refused.content == absent.content
    assert "django_http" not in refused.content.decode()


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Token {TOKEN}", TOKEN, "Bearer ", "Bearer"],
)
def test_a_wrong_token_gets_404(client, authorization):
    assert client.get("/metrics", headers={"Authorization": authorization}).status_code == 404


def test_no_token_configured_means_no_token_works(client, settings):
    settings.PINSTABLR_METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 404


def test_signed_in_people_outside_ops_get_404(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/metrics").status_code == 404


def test_the_ops_team_and_superusers_may_read_it(client):
    client.force_login(ops_member())
    assert client.get("/metrics").status_code == 200
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get("/metrics").status_code == 200


def test_an_inactive_ops_member_gets_404(client):
    member = ops_member()
    member.is_active = False
    member.save()
    client.force_login(member)
    assert client.get("/metrics").status_code == 404


def test_a_scrape_with_the_token_runs_no_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]


def test_other_methods_are_refused_and_hide_the_route_like_get_does():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    assert client.post("/metrics").status_code == 404, "not a CSRF 403 that shows the route"
    assert client.post("/metrics", headers=AUTH).status_code == 405
    assert client.head("/metrics", headers=AUTH).status_code == 200


# --- what it holds ----------------------------------------------------------------------


def test_requests_queries_and_every_database_alias_are_counted(client):
    client.force_login(UserFactory())
    client.get("/no-such-page")
    text = client.get("/metrics", headers=AUTH).content.decode()
    assert sample(text, "django_http_requests_total_by_method_total", method="GET") >= 2
    assert (sample(text, "django_http_responses_total_by_status_total", status="404") or 0) >= 1
    assert sample(text, "django_db_execute_total", alias="default", vendor="sqlite") >= 1
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in text


def test_instrumentation_adds_no_query_to_a_page(client, settings, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_home() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured)

    client.get("/")  # warm whatever is cached on first use
    instrumented = queries_for_home()
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "prometheus" not in m]
    assert queries_for_home() == instrumented


def test_queue_depths_and_broker_state_from_the_embedded_broker(client, settings):
    queue = f"test-obs-{uuid.uuid4().hex}"
    settings.PINSTABLR_METRICS_QUEUES = [queue, f"never-declared-{uuid.uuid4().hex}"]
    from pinstablr.celery import app

    with Connection(app.conf.broker_url) as connection:
        waiting = connection.SimpleQueue(queue)
        for number in range(3):
            waiting.put({"n": number})
        text = client.get("/metrics", headers=AUTH).content.decode()
        waiting.clear()
        waiting.close()
    assert sample(text, "pinstablr_celery_broker_up") == 1.0
    assert sample(text, "pinstablr_celery_queue_messages", queue=queue) == 3.0
    assert sample(text, "pinstablr_celery_queue_consumers", queue=queue) == 0.0
    never = settings.PINSTABLR_METRICS_QUEUES[1]
    assert sample(text, "pinstablr_celery_queue_messages", queue=never) == 0.0


def test_the_three_celery_queues_are_watched(settings):
    assert settings.PINSTABLR_METRICS_QUEUES == ["images", "reports", "default"]


def test_task_durations_appear_once_a_task_ran(client):
    from .observability_app import log_line

    log_line.apply(args=["for the metrics"])
    text = client.get("/metrics", headers=AUTH).content.decode()
    labels = {"task": "tests.observability.log_line", "state": "SUCCESS"}
    assert sample(text, "pinstablr_celery_task_duration_seconds_count", **labels) >= 1


def test_what_the_router_knows_of_each_replica(client, settings):
    lags = {"replica_1": 3.0, "replica_2": 300.0}
    pool = ReplicaPool(
        ["replica_1", "replica_2", "replica_3"],
        probe=lambda alias: Probe(lag=lags[alias], position=None),
        connect=lambda alias: None,
        max_lag_seconds=settings.PINSTABLR_REPLICA_MAX_LAG_SECONDS,
    )
    set_pool(pool)
    pool.refresh("replica_1")
    pool.refresh("replica_2")
    text = client.get("/metrics", headers=AUTH).content.decode()
    assert sample(text, "pinstablr_db_replica_lag_seconds", alias="replica_1") == 3.0
    assert sample(text, "pinstablr_db_replica_serving", alias="replica_1") == 1.0
    assert sample(text, "pinstablr_db_replica_serving", alias="replica_2") == 0.0, "lagging"
    assert sample(text, "pinstablr_db_replica_serving", alias="replica_3") is None, "unread"
    pool.mark_down("replica_1", "connection refused")
    text = client.get("/metrics", headers=AUTH).content.decode()
    assert sample(text, "pinstablr_db_replica_serving", alias="replica_1") == 0.0


def test_the_file_cache_counts_a_stored_zero_as_a_hit(tmp_path):
    from prometheus_client import REGISTRY

    def value(name: str) -> float:
        return REGISTRY.get_sample_value(name, {"backend": "filebased"}) or 0.0

    cache = FileBasedCache(str(tmp_path), {})
    hits, misses = value("django_cache_get_hits_total"), value("django_cache_get_misses_total")
    cache.set("zero", 0)
    assert cache.get("zero", "default") == 0
    assert cache.get("absent", "default") == "default"
    assert value("django_cache_get_hits_total") == hits + 1
    assert value("django_cache_get_misses_total") == misses + 1


# --- the broker, up, down and stuck -----------------------------------------------------


@pytest.mark.rabbitmq
def test_queue_depth_is_read_from_rabbitmq(client, settings, rabbitmq_url):
    queue = f"test-obs-{uuid.uuid4().hex}"
    settings.PINSTABLR_METRICS_QUEUES = [queue]
    with (
        broker_at(rabbitmq_url, {"confirm_publish": True}),
        Connection(rabbitmq_url, transport_options={"confirm_publish": True}) as connection,
    ):
        waiting = connection.SimpleQueue(queue)
        try:
            for number in range(7):
                waiting.put({"n": number})
            text = client.get("/metrics", headers=AUTH).content.decode()
        finally:
            waiting.close()
            connection.default_channel.queue_delete(queue)
    assert sample(text, "pinstablr_celery_broker_up") == 1.0
    assert sample(text, "pinstablr_celery_queue_messages", queue=queue) == 7.0
    assert sample(text, "pinstablr_celery_queue_consumers", queue=queue) == 0.0


def test_with_the_broker_down_metrics_answer_at_once_and_say_so(client):
    with broker_at(f"amqp://guest:guest@127.0.0.1:{free_port()}//"):
        started = time.monotonic()
        response = client.get("/metrics", headers=AUTH)
        took = time.monotonic() - started
    assert response.status_code == 200
    text = response.content.decode()
    assert sample(text, "pinstablr_celery_broker_up") == 0.0
    assert sample(text, "pinstablr_celery_queue_messages", queue="images") is None
    assert "django_http_requests_total_by_method_total" in text, "the rest is still there"
    assert took < 3


@pytest.fixture
def silent_broker() -> Iterator[int]:
    """A port that accepts TCP connections and then never says a word (a stuck broker)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


def test_a_stuck_broker_never_holds_a_scrape(client, settings, silent_broker):
    settings.PINSTABLR_QUEUE_DEPTH_TIMEOUT_SECONDS = 0.5
    with broker_at(f"amqp://guest:guest@127.0.0.1:{silent_broker}//"):
        timings = []
        for _ in range(3):
            started = time.monotonic()
            response = client.get("/metrics", headers=AUTH)
            timings.append(time.monotonic() - started)
            assert response.status_code == 200
            assert sample(response.content.decode(), "pinstablr_celery_broker_up") == 0.0
    assert max(timings) < 2, timings


# --- the reader on its own --------------------------------------------------------------


def test_one_reading_serves_every_scrape_within_the_cache_time():
    calls = []
    now = [100.0]

    def read() -> dict[str, QueueDepth]:
        calls.append(1)
        return {"images": QueueDepth(messages=len(calls), consumers=2)}

    reader = QueueDepthReader(read=read, cache_seconds=5, timeout_seconds=1, clock=lambda: now[0])
    assert reader.reading().queues["images"].messages == 1
    now[0] += 4
    assert reader.reading().queues["images"].messages == 1
    now[0] += 2
    assert reader.reading().queues["images"].messages == 2
    assert len(calls) == 2


def test_a_hung_reading_gives_unreachable_by_the_deadline_and_starts_no_second_one():
    release = threading.Event()
    calls = []

    def hang() -> dict[str, QueueDepth]:
        calls.append(1)
        release.wait(10)
        return {"images": QueueDepth(messages=1, consumers=1)}

    reader = QueueDepthReader(read=hang, cache_seconds=0, timeout_seconds=0.2)
    started = time.monotonic()
    first = reader.reading()
    second = reader.reading()
    took = time.monotonic() - started
    release.set()
    assert not first.reachable
    assert "within 0.2s" in first.error
    assert not second.reachable
    assert len(calls) == 1
    assert took < 1
    deadline = time.monotonic() + 5
    while not (reading := reader.reading()).reachable:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert reading.queues["images"].messages == 1


def test_a_failing_read_is_unreachable_with_the_reason():
    def refuse() -> dict[str, QueueDepth]:
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    reading = QueueDepthReader(read=refuse, cache_seconds=0, timeout_seconds=1).reading()
    assert not reading.reachable
    assert re.search("ConnectionRefusedError", reading.error)
