"""Production: every secret and address comes from the environment, and nothing defaults.

The service sits behind a TLS-terminating load balancer, so it trusts X-Forwarded-Proto and
lets the health probes (plain HTTP from inside the cluster) through without a redirect.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from pinstablr.observability.logs import logging_config

from .required import missing_variables

# Checked before base is imported, so a missing URL is named instead of defaulting to SQLite.
_missing = missing_variables(dict(os.environ))
if _missing:
    raise ImproperlyConfigured(
        "The production settings need these environment variables, which are unset or "
        f"empty: {', '.join(_missing)}. See the settings reference in README.md."
    )

from .base import *  # noqa: E402, F403
from .base import LOG_LEVEL, env  # noqa: E402

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Probes and Prometheus reach the pods directly over plain HTTP, inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# One JSON object per line on standard output, for the log collector.
PINSTABLR_LOG_FORMAT = env.str("PINSTABLR_LOG_FORMAT", default="json")
LOGGING = logging_config(log_format=PINSTABLR_LOG_FORMAT, level=LOG_LEVEL)
