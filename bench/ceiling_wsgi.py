"""WSGI entry point for bench/http_load.py: ``pinstablr.wsgi.application`` under bench settings.

``bench.settings_bench`` routes ``/bench/ceiling`` to a bare Django JSON view through
Django's own request handling and leaves every other path to the app::

    gunicorn bench.ceiling_wsgi:application    # from the repository root
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")

from pinstablr.wsgi import application

__all__ = ["application"]
