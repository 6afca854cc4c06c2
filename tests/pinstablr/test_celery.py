"""The Celery app: queues, late acknowledgement, and a real round trip through RabbitMQ."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction
from kombu import Connection

from pinstablr.celery import app
from tests.brokers import broker_at

pytestmark = pytest.mark.django_db(transaction=True)


def test_tasks_are_acknowledged_late_and_given_back_when_a_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_every_task_has_a_time_limit():
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit


def test_queues_and_routes():
    assert {queue.name for queue in app.conf.task_queues} == {"images", "reports", "default"}
    assert app.conf.task_default_queue == "default"
    assert app.amqp.router.route({}, "apps.photos.tasks.process_photo")["queue"].name == "images"
    assert app.amqp.router.route({}, "apps.reports.tasks.run_report")["queue"].name == "reports"


@pytest.mark.rabbitmq
def test_a_task_is_published_to_rabbitmq_only_after_commit(rabbitmq_url):
    queue = f"test-{uuid.uuid4().hex}"

    @app.task(name="tests.record")
    def record(value: int) -> None:
        """Never runs here: the test reads the message off the queue itself."""

    with (
        broker_at(rabbitmq_url, {"confirm_publish": True}),
        Connection(rabbitmq_url) as connection,
    ):
        waiting = connection.SimpleQueue(queue)
        with transaction.atomic():
            transaction.on_commit(lambda: record.apply_async((7,), queue=queue), using="default")
            assert waiting.qsize() == 0, "nothing is sent before the transaction commits"
        message = waiting.get(timeout=5)
        message.ack()
        waiting.close()
        connection.default_channel.queue_delete(queue)
    assert message.headers["task"] == "tests.record"
    assert message.payload[0] == [7]
