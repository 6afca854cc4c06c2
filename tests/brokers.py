"""Point the Celery app at another broker for one block, producers and all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pinstablr.celery import app


def _reset_producers() -> None:
    # The producer pool keeps connections to the broker it first used.
    app.pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_at(url: str, transport_options: dict[str, object] | None = None) -> Iterator[None]:
    previous = (app.conf.broker_url, app.conf.broker_transport_options)
    app.conf.broker_url = url
    app.conf.broker_transport_options = transport_options or {}
    _reset_producers()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = previous
        _reset_producers()
