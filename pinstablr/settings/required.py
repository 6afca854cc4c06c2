"""The environment the production profile cannot start without (its names are a contract)."""

REQUIRED_VARIABLES = [
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "DATABASE_REPLICA_URLS",
    "DATABASE_REPORTING_URL",
    "DATABASE_EXPERIMENTS_URL",
    "DATABASE_EXPERIMENTS_READ_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
]
S3_VARIABLES = [
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
]


def missing_variables(environ: dict[str, str]) -> list[str]:
    """Names of the required variables that are unset or empty, in documented order."""
    required = list(REQUIRED_VARIABLES)
    if environ.get("PINSTABLR_MEDIA_STORAGE", "filesystem") == "s3":
        required += S3_VARIABLES
    return [name for name in required if not environ.get(name, "").strip()]
