"""The Celery application: queues ``images``, ``reports`` and ``default``.

Configuration lives in settings under the ``CELERY_`` prefix. Run a pool per queue, e.g.
``celery -A pinstablr worker -Q images`` for the image workers.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pinstablr.settings.dev")

app = Celery("pinstablr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
