"""Cache backends that count gets, hits and misses into django-prometheus' metrics."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import filebased, locmem
from django_prometheus.cache.metrics import (
    django_cache_get_total,
    django_cache_hits_total,
    django_cache_misses_total,
)

_MISSING = object()


class _CountingGet:
    """A ``get`` that tells a miss from a stored falsy value (0, "", [])."""

    metrics_label = ""

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        django_cache_get_total.labels(backend=self.metrics_label).inc()
        value = super().get(key, _MISSING, version)  # type: ignore[misc]
        if value is _MISSING:
            django_cache_misses_total.labels(backend=self.metrics_label).inc()
            return default
        django_cache_hits_total.labels(backend=self.metrics_label).inc()
        return value


class FileBasedCache(_CountingGet, filebased.FileBasedCache):
    """The embedded setup's cache (files shared by web and worker), with metrics."""

    metrics_label = "filebased"


class LocMemCache(_CountingGet, locmem.LocMemCache):
    """A process-local cache, with metrics."""

    metrics_label = "locmem"
