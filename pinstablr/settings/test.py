"""Test run: embedded databases in memory, fast hashing, no real broker unless asked."""

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = "test-only-key-not-secret"  # noqa: S105 - the test profile only
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Synthetic data for benchmarks and load tests (manage.py generate_load_data): never in
# production, which does not install it.
INSTALLED_APPS = [*INSTALLED_APPS, "apps.devdata"]  # noqa: F405

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}

# Static files straight from static/ (no collectstatic) while developing and testing.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# Tests send far more requests than a person: throttling has tests of its own.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(("anon", "user", "login", "uploads"), "100000/minute"),
}

# One process: the fastest cache will do.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tests check that a write shows on the very next read; the microcache has its own tests.
PINSTABLR_ANONYMOUS_MICROCACHE_SECONDS = 0.0
