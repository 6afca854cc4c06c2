"""Log format: one JSON object per line in production, readable text while developing.

Settings build ``LOGGING`` with :func:`logging_config`; gunicorn and Celery use the same
configuration, so every line on a container's standard output has the same shape:
``time``, ``level``, ``logger``, ``message``, ``request_id``, and whatever fields the line
adds (``method``, ``path``, ``status`` and ``duration_ms`` for a request, ``task_id`` and
``task_name`` inside a task).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from .context import current_request_id, current_task

LOG_FORMATS = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds the current request id (``-`` outside a request) and task to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        task = current_task()
        if task is not None and not hasattr(record, "task_id"):
            record.task_id = task.id
            record.task_name = task.name
        return True


class JsonFormatter(BaseJsonFormatter):
    """python-json-logger with the time in UTC, ISO 8601 with milliseconds."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, tz=UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def formatters() -> dict[str, dict[str, Any]]:
    """Both formatters, for ``logging.config.dictConfig``."""
    return {
        "json": {
            "()": "pinstablr.observability.logs.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "message", "request_id"],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": TEXT_FORMAT},
    }


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """``LOGGING`` for the settings: everything to standard output in ``log_format``."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"PINSTABLR_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "pinstablr.observability.logs.RequestIdFilter"}},
        "formatters": formatters(),
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": log_format,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own handlers would print its lines a second time, in another format.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.db.backends": {"level": "WARNING"},
            # runserver's access lines repeat what the request log (pinstablr.request) says.
            "django.server": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }
