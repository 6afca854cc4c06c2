"""The Celery application: queues ``images``, ``reports`` and ``default``.

Configuration lives in settings under the ``CELERY_`` prefix. Run a pool per queue, e.g.
``celery -A pinstablr worker -Q images`` for the image workers. Workers and beat log through
the settings' ``LOGGING`` (JSON in production), exactly as the web servers do.
"""

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pinstablr.settings.dev")

app = Celery("pinstablr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def use_project_logging(**kwargs: Any) -> None:
    """Configure logging from settings instead of letting Celery install its own handlers."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
