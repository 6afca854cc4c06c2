"""Local development: embedded defaults, debug pages, a fixed key that is not secret."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-never-used-in-production")
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Synthetic data for benchmarks and load tests (manage.py generate_load_data): never in
# production, which does not install it.
INSTALLED_APPS = [*INSTALLED_APPS, "apps.devdata"]  # noqa: F405

# Static files straight from static/ (no collectstatic) while developing and testing.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
