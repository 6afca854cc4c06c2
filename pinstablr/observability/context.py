"""The request id of the work in progress, for log lines and the tasks it enqueues.

A context variable, so each request (or task) of a thread sees only its own id, and the
id set for a request is gone once the request is.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

# nginx's $request_id is 32 hex digits; other proxies send UUIDs or similar. Anything
# longer or with other characters is replaced, so nobody can forge log lines through it.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{8,128}")

request_id_var: ContextVar[str | None] = ContextVar("pinstablr_request_id", default=None)


@dataclass(frozen=True)
class TaskInfo:
    """The Celery task a worker process is running."""

    id: str
    name: str


task_var: ContextVar[TaskInfo | None] = ContextVar("pinstablr_task", default=None)


def new_request_id() -> str:
    """A fresh id, shaped like nginx's own."""
    return uuid.uuid4().hex


def is_valid_request_id(value: object) -> bool:
    """Whether ``value`` may be used as a request id as it is."""
    return isinstance(value, str) and REQUEST_ID_PATTERN.fullmatch(value) is not None


def current_request_id() -> str | None:
    """The id of the request or task being handled, if any."""
    return request_id_var.get()


def current_task() -> TaskInfo | None:
    """The Celery task being run, if any."""
    return task_var.get()
