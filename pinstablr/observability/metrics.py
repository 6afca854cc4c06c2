"""Prometheus metrics of Pinstablr beyond django-prometheus' requests, queries and cache.

Several processes serve one container (gunicorn's workers, Celery's pool). With
``PROMETHEUS_MULTIPROC_DIR`` set (the container entry point sets it), each process writes
its counters to files there and a scrape adds them up (prometheus_client's multiprocess
mode); without it (``make run``, tests) the process's own registry is the whole story.

Computed at scrape time and never stored: the broker's queue depths and the replica health
this process has seen (no query: the readings the router already took).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .multiprocess import folder_metrics
from .queues import get_reader

# Up to the hard time limit (CELERY_TASK_TIME_LIMIT, 180 s by default).
TASK_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 180, float("inf"))

TASK_DURATION = Histogram(
    "pinstablr_celery_task_duration_seconds",
    "Time a Celery task ran in the worker, by task name and final state.",
    ["task", "state"],
    buckets=TASK_DURATION_BUCKETS,
)


class BrokerCollector(Collector):
    """``pinstablr_celery_*``: whether the broker answers, and each queue's depth."""

    def collect(self) -> Iterable[Metric]:
        reading = get_reader().reading()
        up = GaugeMetricFamily(
            "pinstablr_celery_broker_up",
            "1 if the broker answered the last queue depth reading, else 0.",
        )
        up.add_metric([], 1.0 if reading.reachable else 0.0)
        yield up
        seconds = GaugeMetricFamily(
            "pinstablr_celery_broker_check_seconds",
            "How long the last queue depth reading took (or waited before giving up).",
        )
        seconds.add_metric([], reading.seconds)
        yield seconds
        messages = GaugeMetricFamily(
            "pinstablr_celery_queue_messages",
            "Messages ready for delivery in each Celery queue.",
            labels=["queue"],
        )
        consumers = GaugeMetricFamily(
            "pinstablr_celery_queue_consumers",
            "Consumers (worker processes) attached to each Celery queue.",
            labels=["queue"],
        )
        # A broker that did not answer has no depths: no stale numbers pretend otherwise.
        for name, depth in sorted(reading.queues.items()):
            messages.add_metric([name], float(depth.messages))
            consumers.add_metric([name], float(depth.consumers))
        yield messages
        yield consumers


class ReplicaCollector(Collector):
    """``pinstablr_db_replica_*``: what this process's router knows of each replica."""

    def collect(self) -> Iterable[Metric]:
        from pinstablr.db.replicas import get_pool

        pool = get_pool()
        lag = GaugeMetricFamily(
            "pinstablr_db_replica_lag_seconds",
            "Seconds the replica was behind the primary at its last reading.",
            labels=["alias"],
        )
        serving = GaugeMetricFamily(
            "pinstablr_db_replica_serving",
            "1 if the router sends reads to the replica, 0 if it is taken out or lagging.",
            labels=["alias"],
        )
        bound = settings.PINSTABLR_REPLICA_MAX_LAG_SECONDS
        for alias, status in sorted(pool.statuses.items()):
            if pool.is_down(alias):
                serving.add_metric([alias], 0.0)
                continue
            if status.checked_at == float("-inf"):
                continue  # not read by this process yet: no claim either way
            if status.lag is None:  # reachable but not applying the primary's changes
                serving.add_metric([alias], 0.0)
                continue
            lag.add_metric([alias], status.lag)
            serving.add_metric([alias], 1.0 if status.lag <= bound else 0.0)
        yield lag
        yield serving


def process_metrics() -> bytes:
    """Every counter and histogram of this container's processes, in the text format."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        return folder_metrics(Path(settings.PROMETHEUS_MULTIPROC_DIR))
    return generate_latest(REGISTRY)


def web_metrics() -> bytes:
    """What a web server's ``/metrics`` answers: its processes' metrics plus live readings."""
    live = CollectorRegistry(auto_describe=False)
    live.register(BrokerCollector())
    live.register(ReplicaCollector())
    return process_metrics() + generate_latest(live)
