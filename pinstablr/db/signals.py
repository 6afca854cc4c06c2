"""Hooks that keep routing honest: guards on new connections, a fresh state per task."""

from __future__ import annotations

from typing import Any

from celery import signals as celery_signals
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

from . import guards
from . import state as routing
from .config import read_only_aliases, replica_aliases

_task_tokens: dict[str, Any] = {}


def install_guards(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Attach the read-only guard (and the replica failure recorder) to a new connection."""
    if getattr(connection, "pinstablr_guarded", False):
        return  # a reconnect of a wrapper that already has its guards
    connection.pinstablr_guarded = True  # type: ignore[attr-defined]
    alias = connection.alias
    if alias in replica_aliases(settings.DATABASES):
        connection.execute_wrappers.append(guards.record_replica_failures(alias))
    if alias in read_only_aliases(settings.DATABASES):
        connection.execute_wrappers.append(guards.refuse_writes(alias))


def start_task_scope(task_id: str | None = None, **kwargs: Any) -> None:
    """Each Celery task routes like a fresh request: no pin carried over from the last one."""
    if task_id is not None:
        _task_tokens[task_id] = routing.begin()


def end_task_scope(task_id: str | None = None, **kwargs: Any) -> None:
    token = _task_tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        routing.end(token)


def connect() -> None:
    connection_created.connect(install_guards, dispatch_uid="pinstablr.db.guards")
    celery_signals.task_prerun.connect(start_task_scope, dispatch_uid="pinstablr.db.task_start")
    celery_signals.task_postrun.connect(end_task_scope, dispatch_uid="pinstablr.db.task_end")
