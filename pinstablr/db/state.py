"""Read-routing state of the current request or task, kept in a context variable.

A context variable (not a thread-local) so that threads, async views and Celery tasks each
see their own state: a request or task starts a fresh one and drops it when it ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field


@dataclass
class RoutingState:
    """What the router must know to pick a database for a read."""

    # Every read goes to the primary (unsafe HTTP methods, or forced by a caller).
    primary_only: bool = False
    # This request or task has written to the primary: its later reads must see that.
    wrote: bool = False
    # Replication position the client's earlier writes reached (a GTID list), if known.
    required_position: str | None = None
    # Without positions: reads stay on the primary until this wall-clock time.
    pinned_until: float = 0.0
    # The replica serving this request's reads, once chosen; all its reads use one replica.
    chosen_replica: str | None = None
    # A replica whose query failed during this request: skipped on a retry.
    failed_replicas: set[str] = field(default_factory=set)


_state: ContextVar[RoutingState | None] = ContextVar("pinstablr_routing_state", default=None)


def current() -> RoutingState:
    """The state of the running request or task; a fresh one outside of any."""
    state = _state.get()
    if state is None:
        state = RoutingState()
        _state.set(state)
    return state


def begin(state: RoutingState | None = None) -> Token[RoutingState | None]:
    """Start a new scope (a request, a task); pass the token to :func:`end`."""
    return _state.set(state or RoutingState())


def end(token: Token[RoutingState | None]) -> None:
    """Leave the scope started by :func:`begin`."""
    _state.reset(token)


@contextmanager
def routing_scope(state: RoutingState | None = None) -> Iterator[RoutingState]:
    """Run a block with its own routing state, e.g. ``with routing_scope(RoutingState(...))``."""
    token = begin(state)
    try:
        yield current()
    finally:
        end(token)
