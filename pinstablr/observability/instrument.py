"""Swap Django's database and cache backends for ones that count into Prometheus.

Settings call these on the mappings they built, so every alias (primary, each replica,
reporting, experiments and experiments_read) gets query counts and durations labelled with
its alias, and the cache gets hit and miss counts. Nothing here runs a query.
"""

from __future__ import annotations

from typing import Any

DATABASE_ENGINES = {
    "django.db.backends.mysql": "django_prometheus.db.backends.mysql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
}
CACHE_BACKENDS = {
    "django_redis.cache.RedisCache": "django_prometheus.cache.backends.redis.RedisCache",
    # django-prometheus' own file and memory backends take a cached 0 or "" for a miss.
    "django.core.cache.backends.filebased.FileBasedCache": (
        "pinstablr.observability.cache.FileBasedCache"
    ),
    "django.core.cache.backends.locmem.LocMemCache": "pinstablr.observability.cache.LocMemCache",
}


def with_query_metrics(databases: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``databases`` with every engine that has an instrumented twin replaced by it."""
    return {
        alias: {**config, "ENGINE": DATABASE_ENGINES.get(config["ENGINE"], config["ENGINE"])}
        for alias, config in databases.items()
    }


def with_cache_metrics(caches: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``caches`` with every backend that has an instrumented twin replaced by it."""
    return {
        alias: {**config, "BACKEND": CACHE_BACKENDS.get(config["BACKEND"], config["BACKEND"])}
        for alias, config in caches.items()
    }
