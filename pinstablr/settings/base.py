"""Settings shared by every profile.

Every value comes from the environment (django-environ). With no environment at all the
defaults are the embedded ones: SQLite files and local media under ``var/``, a local-memory
cache and a filesystem message queue, so the service runs with no server installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from kombu import Queue

from pinstablr.content_policy import content_security_policy, rendition_image_sources
from pinstablr.db.config import (
    build_console_databases,
    build_databases,
    replica_aliases,
    sqlite_read_only_url,
)
from pinstablr.observability.instrument import with_cache_metrics, with_query_metrics
from pinstablr.observability.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

VAR_DIR = Path(env.str("PINSTABLR_VAR_DIR", default=str(BASE_DIR / "var")))
DEFAULT_DB_PATH = VAR_DIR / "db" / "pinstablr.sqlite3"

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "guardian",
    "django_celery_beat",
    "pinstablr.db",
    "django_prometheus",
    "pinstablr.observability",
    "apps.common",
    "apps.accounts",
    "apps.experiments",
    "apps.photos",
    "apps.reports",
    "apps.teams",
    # After every app with object permission models: it audits them all.
    "apps.audit",
]

MIDDLEWARE = [
    # Outermost: times everything below and names the request before anything logs.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "pinstablr.observability.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (pinstablr/content_policy.py).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outermost database middleware: it owns the per-request routing state.
    "pinstablr.db.middleware.ReadRoutingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.audit.context.AuditActorMiddleware",
    # After auth: assignments need the user; sets the anonymous unit cookie when needed.
    "apps.experiments.middleware.ExperimentsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost: counts requests by view and status.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "pinstablr.urls"
WSGI_APPLICATION = "pinstablr.wsgi.application"
ASGI_APPLICATION = "pinstablr.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases -------------------------------------------------------------------------

DATABASES = build_databases(
    primary_url=env.str("DATABASE_URL", default=f"sqlite:///{DEFAULT_DB_PATH}"),
    replica_urls=env.list("DATABASE_REPLICA_URLS", default=[sqlite_read_only_url(DEFAULT_DB_PATH)]),
    reporting_url=env.str("DATABASE_REPORTING_URL", default=sqlite_read_only_url(DEFAULT_DB_PATH)),
    experiments_url=env.str(
        "DATABASE_EXPERIMENTS_URL", default=f"sqlite:///{VAR_DIR / 'db' / 'experiments.sqlite3'}"
    ),
    experiments_read_url=env.str(
        "DATABASE_EXPERIMENTS_READ_URL", default=sqlite_read_only_url(DEFAULT_DB_PATH)
    ),
    # Connections are kept between requests (and checked before reuse): a new MariaDB
    # connection costs five statements and a round trip per request otherwise.
    conn_max_age=env.int("DATABASE_CONN_MAX_AGE", default=60),
)
# Query counts and durations per alias (/metrics); the same drivers underneath.
DATABASES = with_query_metrics(DATABASES)
DATABASE_ROUTERS = ["pinstablr.db.router.TopologyRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PINSTABLR_REPLICAS = replica_aliases(DATABASES)
# After a write, a user's reads stay on the primary until a replica has applied it. Where
# the database has no replication positions (SQLite) they stay for this many seconds.
PINSTABLR_PIN_SECONDS = env.float("PINSTABLR_PIN_SECONDS", default=5.0)
# A replica further behind than this is skipped.
PINSTABLR_REPLICA_MAX_LAG_SECONDS = env.float("PINSTABLR_REPLICA_MAX_LAG_SECONDS", default=30.0)
# A replica that failed is skipped for this long before it is tried again.
PINSTABLR_REPLICA_COOLDOWN_SECONDS = env.float("PINSTABLR_REPLICA_COOLDOWN_SECONDS", default=10.0)
# How long a replica's lag and position reading is trusted before it is read again.
PINSTABLR_REPLICA_CHECK_SECONDS = env.float("PINSTABLR_REPLICA_CHECK_SECONDS", default=1.0)

# --- Auth ------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Django's password check behind the login lockout every login path shares.
    "apps.accounts.backends.LockoutModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Wrong passwords for one user name from one address before that pair is locked for 15
# minutes (four times as many lock an address; see apps/accounts/security.py).
PINSTABLR_LOGIN_FAILURES_PER_USER = env.int("PINSTABLR_LOGIN_FAILURES_PER_USER", default=5)
# API tokens stop working this many days after they were made; unset: they do not expire.
PINSTABLR_TOKEN_LIFETIME_DAYS: int | None = env.int("PINSTABLR_TOKEN_LIFETIME_DAYS", default=None)
# Sessions in the database (the primary, shared by every web server) with reads from the
# cache: no user is tied to one server, and a cache outage only costs a database read.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
GUARDIAN_RAISE_403 = False
# No object permissions for signed-out visitors: no "AnonymousUser" account either.
ANONYMOUS_USER_NAME = None

# --- Internationalisation --------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT: Path | None = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
PINSTABLR_MEDIA_STORAGE = env.str("PINSTABLR_MEDIA_STORAGE", default="filesystem")
# A rendition never changes, so browsers keep it a year; shared caches (a CDN) only
# s-maxage seconds, so a hidden or deleted photo's files, gone from the storage at once, leave
# a CDN nobody purged within that time (apps/photos/services/files.py, docs/runbook.md).
PINSTABLR_RENDITION_SHARED_MAX_AGE = env.int("PINSTABLR_RENDITION_SHARED_MAX_AGE", default=600)
RENDITION_CACHE_CONTROL = (
    f"public, max-age=31536000, s-maxage={PINSTABLR_RENDITION_SHARED_MAX_AGE}, immutable"
)
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Keys are content hashes, so an existing object is always equal: overwrite, never rename.
    "originals": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None, "allow_overwrite": True},
    },
    "renditions": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": MEDIA_ROOT / "r",
            "base_url": f"{MEDIA_URL}r/",
            "allow_overwrite": True,
        },
    },
}
if PINSTABLR_MEDIA_STORAGE == "s3":
    _s3 = {
        "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME", default=""),
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
        "access_key": env.str("AWS_ACCESS_KEY_ID", default=""),
        "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=""),
        "region_name": env.str("AWS_S3_REGION_NAME", default="us-east-1"),
        "addressing_style": "path",
        "signature_version": "s3v4",
        "file_overwrite": True,
        "default_acl": None,
    }
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3, "location": "media", "querystring_auth": True},
    }
    STORAGES["originals"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3, "location": "private", "querystring_auth": True},
    }
    STORAGES["renditions"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **_s3,
            "location": "r",
            "object_parameters": {"CacheControl": RENDITION_CACHE_CONTROL},
            # A CDN or the bucket's public endpoint in front of the renditions; without one,
            # URLs are signed.
            "custom_domain": env.str("PINSTABLR_RENDITIONS_DOMAIN", default="") or None,
            "querystring_auth": not env.str("PINSTABLR_RENDITIONS_DOMAIN", default=""),
            "querystring_expire": 7 * 24 * 3600,
        },
    }

# --- Uploads ---------------------------------------------------------------------------

PINSTABLR_UPLOAD_MAX_BYTES = env.int("PINSTABLR_UPLOAD_MAX_BYTES", default=25 * 1000 * 1000)
PINSTABLR_UPLOAD_MAX_PIXELS = env.int("PINSTABLR_UPLOAD_MAX_PIXELS", default=50 * 1000 * 1000)
# The web process decodes an upload whole (to turn away corrupt files) only up to this many
# pixels: decoding costs up to ~15 bytes a pixel (WebP), so 4 MP stays under ~64 MB per
# upload. Larger PNGs are checked as a stream, other formats by the image workers; JPEGs are
# always checked at 1/8 scale (apps/photos/validation.py).
PINSTABLR_UPLOAD_WEB_DECODE_MAX_PIXELS = env.int(
    "PINSTABLR_UPLOAD_WEB_DECODE_MAX_PIXELS", default=4 * 1000 * 1000
)
# Photos a user may have waiting for the image workers (pending or processing); the next
# upload is refused with 429 until some are done.
PINSTABLR_UPLOAD_MAX_PENDING_PER_USER = env.int("PINSTABLR_UPLOAD_MAX_PENDING_PER_USER", default=20)
# Larger uploads spool to a temporary file rather than memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Cache -----------------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                # Redis down means a slower site, not a broken one.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
            "KEY_PREFIX": "pinstablr",
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    # Embedded default: files, so the web server and the worker share one cache (a worker's
    # write must invalidate what the web server serves).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# Hit and miss counts (/metrics).
CACHES = with_cache_metrics(CACHES)

# Signed-out readers of a hot API page may get it up to this many seconds old from the web
# process's memory, without a Redis round trip (0 turns it off).
PINSTABLR_ANONYMOUS_MICROCACHE_SECONDS = env.float(
    "PINSTABLR_ANONYMOUS_MICROCACHE_SECONDS", default=1.0
)
# A photo's view counts once per client (account, or address) in this many seconds.
PINSTABLR_VIEW_WINDOW_SECONDS = env.int("PINSTABLR_VIEW_WINDOW_SECONDS", default=30 * 60)

# --- Celery ----------------------------------------------------------------------------

BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Embedded default: a queue in files, so a local worker process runs tasks off-request.
    # Every process that uses it (web, worker, manage.py) needs its folders.
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Exchange bindings too: by default kombu writes them under ./control.
        "control_folder": str(BROKER_DIR / "control"),
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("amqp://", "pyamqp://")):
    # Publisher confirms: delay() returns only once the broker has the message.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True, "max_retries": 3}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# With the broker down, a request that enqueues gives up within about a second.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5,
}  # fmt: skip
CELERY_TASK_DEFAULT_QUEUE = "default"
# Priorities on the images queue: new uploads (6) before AVIF extras (1).
CELERY_TASK_QUEUES = [
    Queue("images", queue_arguments={"x-max-priority": 10}),
    Queue("reports"),
    Queue("default"),
]
CELERY_TASK_ROUTES = {
    "apps.photos.tasks.requeue_pending_photos": {"queue": "default"},
    "apps.photos.tasks.flush_photo_counters": {"queue": "default"},
    "apps.photos.tasks.rescore_photos": {"queue": "default"},
    "apps.photos.tasks.*": {"queue": "images"},
    "apps.reports.tasks.*": {"queue": "reports"},
}
# A task is acknowledged after it ran, and given back if its worker dies, so a killed
# worker loses nothing; tasks are written to be idempotent for that reason.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
# State lives on the models; nobody reads task results.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Workers and beat log through LOGGING below, like the web servers (pinstablr/celery.py).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    # Photos whose processing was never queued (broker down) or never finished.
    "flush-photo-counters": {"task": "apps.photos.tasks.flush_photo_counters", "schedule": 10.0},
    "rescore-photos": {"task": "apps.photos.tasks.rescore_photos", "schedule": 300.0},
    "requeue-pending-photos": {
        "task": "apps.photos.tasks.requeue_pending_photos",
        "schedule": 300.0,
    },
    # Exposures and conversion events queued in Redis, into the experiments database.
    "flush-experiment-events": {
        "task": "apps.experiments.tasks.flush_experiment_events",
        "schedule": 10.0,
    },
    # Results are recomputed here, never on a page view.
    "recompute-experiment-results": {
        "task": "apps.experiments.tasks.recompute_experiment_results",
        "schedule": 600.0,
    },
    # Object grants whose object was deleted (nothing cascades across databases).
    "sweep-orphan-permissions": {
        "task": "apps.teams.tasks.sweep_orphan_permissions",
        "schedule": 3600.0,
    },
}
# Beat keeps its schedules in the database (django-celery-beat), editable in the admin; the
# entries above are copied there on every start. Report schedules live only there.
CELERY_BEAT_SCHEDULER = "apps.reports.beat:DatabaseScheduler"

# --- Reports and the query console -----------------------------------------------------

# The console's statements are stopped by the database after this long: below the web
# server's 60 s, so a person gets a clear message rather than a gateway timeout.
PINSTABLR_CONSOLE_STATEMENT_TIMEOUT_SECONDS = env.float(
    "PINSTABLR_CONSOLE_STATEMENT_TIMEOUT_SECONDS", default=20.0
)
# Rows shown per console run; "showing 1,000 of more" when there were more.
PINSTABLR_CONSOLE_ROW_LIMIT = env.int("PINSTABLR_CONSOLE_ROW_LIMIT", default=1000)
# What one console run may fetch and show: a result past either bound is cut ("showing N of
# more"), and a single value is cut at the cell limit.
PINSTABLR_CONSOLE_MAX_BYTES = env.int("PINSTABLR_CONSOLE_MAX_BYTES", default=2_000_000)
PINSTABLR_CONSOLE_MAX_CELL_CHARS = env.int("PINSTABLR_CONSOLE_MAX_CELL_CHARS", default=2000)
# Console runs per person per minute (one at a time in any case).
PINSTABLR_CONSOLE_RUNS_PER_MINUTE = env.int("PINSTABLR_CONSOLE_RUNS_PER_MINUTE", default=20)
# The consoles' own accounts, each reading a schema of views that holds only reportable
# columns (pinstablr/db/classification.py, console_schema.py). On MariaDB a target without
# its URL has no console; with the embedded SQLite files the console reads the target's file
# read-only through views and an authorizer made from the same classification.
PINSTABLR_CONSOLE_DATABASES = build_console_databases(
    {
        "reporting": env.str("PINSTABLR_CONSOLE_REPORTING_URL", default=""),
        "experiments_read": env.str("PINSTABLR_CONSOLE_EXPERIMENTS_READ_URL", default=""),
        "experiments": env.str("PINSTABLR_CONSOLE_EXPERIMENTS_URL", default=""),
    }
)
# Administrator accounts that may create users, grants and views: used only by
# `manage.py console_schema apply` (and so by `migrate_all`) to build the consoles' schemas.
DATABASE_ADMIN_URL = env.str("DATABASE_ADMIN_URL", default="")
DATABASE_EXPERIMENTS_ADMIN_URL = env.str("DATABASE_EXPERIMENTS_ADMIN_URL", default="")
# Each statement of a scheduled report is stopped after this long on the reporting replica.
PINSTABLR_REPORT_STATEMENT_TIMEOUT_SECONDS = env.int(
    "PINSTABLR_REPORT_STATEMENT_TIMEOUT_SECONDS", default=300
)
# A dashboard warns that its data is stale once its next window is this late.
PINSTABLR_REPORT_STALE_GRACE_HOURS = env.float("PINSTABLR_REPORT_STALE_GRACE_HOURS", default=6.0)

# --- REST API --------------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first: an anonymous request then gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every endpoint is closed unless it says otherwise.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "apps.common.schema.PinstablrAutoSchema",
    # JSON, and DRF's HTML view for browsers (without its inline <style>).
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "apps.common.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "apps.common.api_errors.api_exception_handler",
    # Trust X-Forwarded-For only as far as our own proxies (nginx, the load balancer) add
    # to it; 0 means the socket's address. Otherwise anyone could dodge the throttles.
    "NUM_PROXIES": env.int("PINSTABLR_NUM_PROXIES", default=0),
    "DEFAULT_PAGINATION_CLASS": "apps.common.pagination.NewestFirstCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Counted in the cache (Redis in production), so every web server shares the budget.
    "DEFAULT_THROTTLE_CLASSES": ["apps.common.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("PINSTABLR_THROTTLE_ANON", default="600/minute"),
        "user": env.str("PINSTABLR_THROTTLE_USER", default="1200/minute"),
        "login": env.str("PINSTABLR_THROTTLE_LOGIN", default="10/minute"),
        "uploads": env.str("PINSTABLR_THROTTLE_UPLOADS", default="60/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pinstablr API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components: uploads are binary in the schema.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files: no third-party CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    # No badge image from validator.swagger.io: it would send our schema's URL there.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security defaults shared by every profile -----------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Scripts and styles only from our own files, images also from the renditions' S3 or CDN
# host; no page may be framed (pinstablr/content_policy.py says why).
CONTENT_SECURITY_POLICY = content_security_policy(
    image_sources=rendition_image_sources(
        media_storage=PINSTABLR_MEDIA_STORAGE,
        renditions_domain=env.str("PINSTABLR_RENDITIONS_DOMAIN", default=""),
        endpoint_url=env.str("AWS_S3_ENDPOINT_URL", default=""),
        bucket=env.str("AWS_STORAGE_BUCKET_NAME", default=""),
        region=env.str("AWS_S3_REGION_NAME", default="us-east-1"),
    )
)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the JS client reads it to send the header

# --- Operations: logs and metrics (docs/runbook.md) ------------------------------------

# One line per event on standard output: "json" (production's default) or "text".
PINSTABLR_LOG_FORMAT = env.str("PINSTABLR_LOG_FORMAT", default="text")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = logging_config(log_format=PINSTABLR_LOG_FORMAT, level=LOG_LEVEL)

# /metrics answers a scraper presenting this bearer token, and the ops team; nobody else.
PINSTABLR_METRICS_TOKEN = env.str("PINSTABLR_METRICS_TOKEN", default="")
# Set by the container entry point: the processes of one container add up their metrics
# through files there (prometheus_client's multiprocess mode). Unset: one process each.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
# A Celery worker serves its task metrics on this port (0: not at all).
PINSTABLR_WORKER_METRICS_PORT = env.int("PINSTABLR_WORKER_METRICS_PORT", default=0)
PINSTABLR_WORKER_METRICS_ADDRESS = env.str(
    "PINSTABLR_WORKER_METRICS_ADDRESS",
    default="0.0.0.0",  # noqa: S104 - scraped at the pod's address; token-protected
)
# Queue depths are read from the broker at most this often per process, and a reading
# that takes longer than the timeout counts as "broker unreachable".
PINSTABLR_METRICS_QUEUES = [queue.name for queue in CELERY_TASK_QUEUES]
PINSTABLR_QUEUE_DEPTH_CACHE_SECONDS = env.float("PINSTABLR_QUEUE_DEPTH_CACHE_SECONDS", default=5.0)
PINSTABLR_QUEUE_DEPTH_TIMEOUT_SECONDS = env.float(
    "PINSTABLR_QUEUE_DEPTH_TIMEOUT_SECONDS", default=1.0
)
# Counting migrations at start would query every database from every process.
PROMETHEUS_EXPORT_MIGRATIONS = False
