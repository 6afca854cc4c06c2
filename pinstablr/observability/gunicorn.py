"""gunicorn's settings for the web servers.

Used as ``gunicorn --config python:pinstablr.observability.gunicorn`` (the image's web role).

- Logs: gunicorn's own lines (workers booting, timing out) in the settings' format, JSON in
  production. Its access log is switched off: the app writes one line per request itself,
  with the request id (pinstablr.observability.middleware), so a second line would repeat it.
- Metrics: with ``PROMETHEUS_MULTIPROC_DIR`` set, every worker writes its metrics to files
  there and ``/metrics`` adds them up; when a worker exits (``--max-requests`` replaces them
  all the time), its files are folded into one archive (pinstablr.observability.multiprocess).
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from django.conf import settings


def _logconfig() -> dict[str, Any]:
    config: dict[str, Any] = dict(settings.LOGGING)
    config["loggers"] = {
        **settings.LOGGING.get("loggers", {}),
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    }
    return config


logconfig_dict = _logconfig()


def child_exit(server: Any, worker: Any) -> None:
    """Fold the exited worker's counters into the archive: they still count, in one file."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        from pinstablr.observability.multiprocess import fold_exited_processes

        fold_exited_processes(Path(settings.PROMETHEUS_MULTIPROC_DIR))


def post_worker_init(worker: Any) -> None:
    """Move everything loaded so far (Django, the app, its settings) out of the collector's
    reach: a full collection otherwise walks all of it and shows as a 50-200 ms pause in the
    tail latency (measured in bench/http_load.py)."""
    gc.freeze()
