"""The request id follows a request into its tasks; task durations are measured.

In process: the published message carries the id, an eager task logs with it. For real: a
Celery worker process on RabbitMQ logs the task's line in JSON with the id of the request
that sent it, and serves the task's duration on its metrics port.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kombu import Connection
from prometheus_client import REGISTRY

from pinstablr.celery import app
from pinstablr.observability.celery_hooks import HEADER
from pinstablr.observability.context import current_request_id, current_task
from tests.brokers import broker_at
from tests.processes import REPO, app_environment, stop
from tests.services import free_port

from .observability_app import LOG_LINE_TASK, fail, log_line

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.pinstablr.observability_app")]

TOKEN = "worker-metrics-test-token"


def behind_one_proxy(settings) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def test_a_task_sent_during_a_request_carries_its_id_in_the_message_headers(client, settings):
    behind_one_proxy(settings)
    queue = f"test-obs-{uuid.uuid4().hex}"
    with Connection(app.conf.broker_url) as connection:
        waiting = connection.SimpleQueue(queue)
        response = client.get(
            f"/enqueue?marker=m&queue={queue}", headers={"X-Request-ID": "req-0123456789"}
        )
        message = waiting.get(timeout=5)
        message.ack()
        waiting.close()
    assert response["X-Request-ID"] == "req-0123456789"
    assert message.headers["task"] == LOG_LINE_TASK
    assert message.headers[HEADER] == "req-0123456789"


def test_a_task_sent_outside_any_request_carries_no_id():
    queue = f"test-obs-{uuid.uuid4().hex}"
    with Connection(app.conf.broker_url) as connection:
        waiting = connection.SimpleQueue(queue)
        app.send_task(LOG_LINE_TASK, args=["x"], queue=queue)
        message = waiting.get(timeout=5)
        message.ack()
        waiting.close()
    assert HEADER not in message.headers


def test_a_task_takes_the_id_from_its_message_and_forgets_it_afterwards():
    seen: dict[str, object] = {}

    @app.task(name="tests.observability.remember")
    def remember() -> None:
        seen["request_id"] = current_request_id()
        seen["task"] = current_task()

    remember.apply(headers={HEADER: "from-the-web-0001"})
    assert seen["request_id"] == "from-the-web-0001"
    assert seen["task"].name == "tests.observability.remember"
    assert current_request_id() is None
    assert current_task() is None


def test_a_task_nobody_requested_gets_an_id_of_its_own():
    ids = []

    @app.task(name="tests.observability.remember_id")
    def remember_id() -> None:
        ids.append(current_request_id())

    remember_id.apply()
    remember_id.apply()
    assert all(ids)
    assert ids[0] != ids[1]


def test_a_forged_id_in_the_message_is_not_used():
    ids = []

    @app.task(name="tests.observability.remember_forged")
    def remember_forged() -> None:
        ids.append(current_request_id())

    remember_forged.apply(headers={HEADER: "bad id\nwith a line break"})
    assert ids[0] != "bad id\nwith a line break"


def count(task: str, state: str) -> float:
    labels = {"task": task, "state": state}
    return REGISTRY.get_sample_value("pinstablr_celery_task_duration_seconds_count", labels) or 0.0


def test_task_durations_are_recorded_by_task_and_state():
    successes, failures = count(LOG_LINE_TASK, "SUCCESS"), count(fail.name, "FAILURE")
    log_line.apply(args=["counted"])
    fail.apply()
    assert count(LOG_LINE_TASK, "SUCCESS") == successes + 1
    assert count(fail.name, "FAILURE") == failures + 1


# --- a real worker on RabbitMQ ---------------------------------------------------------


@pytest.fixture
def worker(tmp_path: Path, rabbitmq_url: str) -> Iterator[dict[str, object]]:
    """A Celery worker process (prefork, JSON logs, metrics port) on a queue of its own."""
    queue = f"test-obs-{uuid.uuid4().hex}"
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = app_environment(
        tmp_path,
        CELERY_BROKER_URL=rabbitmq_url,
        PINSTABLR_LOG_FORMAT="json",
        PINSTABLR_METRICS_TOKEN=TOKEN,
        PINSTABLR_WORKER_METRICS_PORT=str(port),
        PINSTABLR_WORKER_METRICS_ADDRESS="127.0.0.1",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "pinstablr", "worker", "-Q", queue,
         "--include", "tests.pinstablr.observability_app", "--concurrency", "1",
         "--pool", "prefork", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
         "--without-heartbeat"],
        cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield {"queue": queue, "log": log, "metrics": f"http://127.0.0.1:{port}/metrics"}
    finally:
        stop(process, signal.SIGTERM)
        with Connection(rabbitmq_url) as connection:
            connection.default_channel.queue_delete(queue)


def json_lines(log: Path) -> list[dict]:
    """The worker's log lines; its start-up banner is the only plain text it prints."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


@pytest.mark.rabbitmq
@pytest.mark.slow
def test_a_real_worker_logs_the_senders_request_id_and_serves_the_tasks_duration(
    client, settings, worker, rabbitmq_url
):
    behind_one_proxy(settings)
    marker = uuid.uuid4().hex
    with broker_at(rabbitmq_url, {"confirm_publish": True}):
        response = client.get(
            f"/enqueue?marker={marker}&queue={worker['queue']}",
            headers={"X-Request-ID": "edge-" + marker},
        )
    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert request_id == "edge-" + marker

    deadline = time.monotonic() + 60
    while not any(marker in line.get("message", "") for line in json_lines(worker["log"])):
        assert time.monotonic() < deadline, worker["log"].read_text()[-3000:]
        time.sleep(0.2)
    lines = json_lines(worker["log"])
    (task_line,) = [line for line in lines if line["message"] == f"task says {marker}"]
    assert task_line["request_id"] == request_id
    assert task_line["logger"] == "tests.observability"
    assert task_line["task_name"] == LOG_LINE_TASK
    assert {"time", "level", "task_id"} <= set(task_line)
    # Celery's own line about the task says the same id.
    assert any(
        line["logger"] == "celery.app.trace" and line["request_id"] == request_id for line in lines
    )
    # Python's warnings (as the one Celery gives a worker running as root) are log lines too.
    assert not any(
        "Warning:" in line
        for line in worker["log"].read_text().splitlines()
        if not line.startswith("{")
    )

    assert requests.get(worker["metrics"], timeout=5).status_code == 404
    scraped = requests.get(
        worker["metrics"], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    assert scraped.status_code == 200
    sample = (
        "pinstablr_celery_task_duration_seconds_count"
        f'{{state="SUCCESS",task="{LOG_LINE_TASK}"}} 1.0'
    )
    assert sample in scraped.text, "recorded in the pool process, served by the main one"
