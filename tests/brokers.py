"""Point the Celery app at another broker for one block, producers and all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import kombu.pools

from pinstablr.celery import app


def _reset_producers() -> None:
    # The app and kombu's registry keep producer pools bound to the broker first used.
    kombu.pools.reset()
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
