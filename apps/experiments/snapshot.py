"""The live experiments, kept where the hot path can read them without a database query.

Every page that asks for a variant needs the experiments that are live (running, plus drafts
and paused ones for QA overrides). They are read from the ``experiments`` database once, kept
in the shared cache (Redis in production) under the ``experiments`` version, and in each
process for a few seconds. A change to an experiment bumps the version when its transaction
commits: this process drops its copy at once, the others within ``LOCAL_SECONDS``.

A warm request therefore costs no query and, within the local window, not even a cache read.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.db import transaction

from apps.common import hotcache
from pinstablr.db.config import EXPERIMENTS

from . import cache_keys
from .bucketing import ExperimentSpec, VariantSpec

logger = logging.getLogger(__name__)
# How long a process trusts its copy before it checks the version again.
LOCAL_SECONDS = 5.0
# The shared copy is rebuilt at least this often, even with no change (belt and braces).
SHARED_SECONDS = 300

Snapshot = dict[str, ExperimentSpec]


@dataclass
class _Local:
    version: int
    checked_until: float
    snapshot: Snapshot


_local: _Local | None = None
_lock = threading.Lock()


def _epoch(value: object) -> float | None:
    return value.timestamp() if value is not None else None  # type: ignore[attr-defined]


def build_snapshot() -> Snapshot:
    """Read the live experiments from the ``experiments`` database (three queries)."""
    from .models import Experiment, ForcedVariant

    live = (Experiment.Status.DRAFT, Experiment.Status.RUNNING, Experiment.Status.PAUSED)
    experiments = list(
        Experiment.objects.using(EXPERIMENTS).filter(status__in=live).prefetch_related("variants")
    )
    forced: dict[int, dict[int, str]] = {}
    for experiment_id, user_id, variant_key in (
        ForcedVariant.objects.using(EXPERIMENTS)
        .filter(experiment__status__in=live)
        .values_list("experiment_id", "user_id", "variant__key")
    ):
        forced.setdefault(experiment_id, {})[user_id] = variant_key
    return {
        e.key: ExperimentSpec(
            id=e.pk,
            key=e.key,
            status=e.status,
            salt=e.salt,
            traffic_buckets=e.traffic_buckets,
            audience=e.audience,
            variants=tuple(
                VariantSpec(
                    id=v.pk,
                    key=v.key,
                    weight=v.weight,
                    is_control=v.is_control,
                    config=dict(v.config or {}),
                )
                for v in e.variants.all()
            ),
            starts_at=_epoch(e.starts_at),
            ends_at=_epoch(e.ends_at),
            started_at=_epoch(e.started_at),
            layer=e.layer,
            layer_offset=e.layer_offset,
            forced=forced.get(e.pk, {}),
        )
        for e in experiments
    }


def live_experiments() -> Snapshot:
    """The live experiments by key, from this process, the shared cache or the database."""
    global _local
    now = time.monotonic()
    local = _local
    if local is not None and now < local.checked_until:
        return local.snapshot
    with _lock:
        current = hotcache.version(cache_keys.SNAPSHOT)
        local = _local
        if local is not None and current and local.version == current:
            local.checked_until = now + LOCAL_SECONDS
            return local.snapshot
        try:
            snapshot = hotcache.get_or_compute(
                f"experiments:live:{current}", build_snapshot, timeout=SHARED_SECONDS
            )
        except Exception:
            # The experiments database is a server of its own: while it cannot be read,
            # every page shows the controls (no one is assigned or counted) instead of an
            # error. Checked again after LOCAL_SECONDS.
            logger.warning("live experiments unavailable; serving controls", exc_info=True)
            snapshot, current = {}, -1
        _local = _Local(version=current, checked_until=now + LOCAL_SECONDS, snapshot=snapshot)
        return snapshot


def forget_local() -> None:
    """Drop this process's copy (the next read checks the shared cache)."""
    global _local
    _local = None


def experiments_changed() -> None:
    """Call in a transaction on ``experiments`` that changed what assignment reads."""
    hotcache.bump(cache_keys.SNAPSHOT, using=EXPERIMENTS)
    transaction.on_commit(forget_local, using=EXPERIMENTS)
