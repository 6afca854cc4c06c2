"""Settings for bench/http_load.py: the dev profile, plus a bare JSON view for the ceiling.

``ROOT_URLCONF`` adds ``/bench/ceiling`` in front of the app's own URLs
(``bench/ceiling_urls.py``); nothing else changes. ``BENCH_CACHE=off`` swaps the cache for
Django's DummyCache, to measure the same pages with nothing cached.
"""

from pinstablr.settings.dev import *  # noqa: F403
from pinstablr.settings.dev import env

ROOT_URLCONF = "bench.ceiling_urls"

if env.str("BENCH_CACHE", default="on") == "off":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
