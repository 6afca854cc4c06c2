"""The metrics experiments are judged by, and how each unit's value is measured.

A metric is measured per exposed unit, counting only what the unit did after its first
exposure (and before the experiment stopped): anything earlier cannot have been caused by
the variant. Two sources:

* ``production``: rows of the site's own tables (likes, uploads, comments), read through
  ``experiments_read`` only, the replica set aside for UX analysis. Only signed-in units
  have them.
* ``events``: conversion events the site or the JS client recorded (``Event`` rows in the
  ``experiments`` database); the only source for signed-out visitors.

A ``rate`` is the share of units that converted at least once (two-proportion z-test); a
``mean`` is the average per unit, zeros included (Welch's t-test).

This registry imports no model (``models.py`` takes its metric choices from here): the
tables it counts are looked up by their label when a metric is measured.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pinstablr.db.config import EXPERIMENTS, EXPERIMENTS_READ

RATE = "rate"
MEAN = "mean"


@dataclass(frozen=True)
class UnitExposure:
    unit_id: str
    user_id: int | None
    exposed_at: datetime


@dataclass(frozen=True)
class Metric:
    key: str
    name: str
    kind: str  # RATE or MEAN
    source: str  # "production" or "events"
    description: str
    # The JS client may record it through the events API.
    client_recordable: bool = False

    def values(self, units: list[UnitExposure], *, until: datetime | None) -> dict[str, float]:
        """Each unit's value (absent means 0), counting only what happened after exposure."""
        if self.source == "events":
            return _event_values(self, units, until=until)
        return PRODUCTION[self.key](self, units, until)


def _aggregate(
    metric: Metric,
    units: list[UnitExposure],
    times: Iterable[tuple[Any, datetime, float]],
    key_of: Callable[[UnitExposure], Any],
) -> dict[str, float]:
    """Sum ``(owner, when, value)`` rows that came after each unit's exposure."""
    by_key = {key_of(unit): unit for unit in units}
    totals: dict[str, float] = defaultdict(float)
    for owner, when, value in times:
        unit = by_key.get(owner)
        if unit is not None and when >= unit.exposed_at:
            totals[unit.unit_id] += value
    if metric.kind == RATE:
        return {unit_id: 1.0 for unit_id, total in totals.items() if total > 0}
    return dict(totals)


def _production_rows(
    model_label: str, user_field: str
) -> Callable[[Metric, list[UnitExposure], datetime | None], dict[str, float]]:
    """A production metric counting rows of ``model_label`` made by the unit's user."""

    def measure(
        metric: Metric, units: list[UnitExposure], until: datetime | None
    ) -> dict[str, float]:
        from django.apps import apps

        signed_in = [unit for unit in units if unit.user_id is not None]
        if not signed_in:
            return {}
        model = apps.get_model(model_label)
        rows = model.objects.using(EXPERIMENTS_READ).filter(
            **{f"{user_field}__in": [unit.user_id for unit in signed_in]},
            created_at__gte=min(unit.exposed_at for unit in signed_in),
        )
        if until is not None:
            rows = rows.filter(created_at__lte=until)
        times = ((owner, when, 1.0) for owner, when in rows.values_list(user_field, "created_at"))
        return _aggregate(metric, signed_in, times, key_of=lambda unit: unit.user_id)

    return measure


def _event_values(
    metric: Metric, units: list[UnitExposure], *, until: datetime | None
) -> dict[str, float]:
    from django.apps import apps

    if not units:
        return {}
    event = apps.get_model("experiments.Event")
    rows = event.objects.using(EXPERIMENTS).filter(
        metric=metric.key,
        unit_id__in=[unit.unit_id for unit in units],
        occurred_at__gte=min(unit.exposed_at for unit in units),
    )
    if until is not None:
        rows = rows.filter(occurred_at__lte=until)
    times = rows.values_list("unit_id", "occurred_at", "value")
    return _aggregate(metric, units, times, key_of=lambda unit: unit.unit_id)


METRICS: dict[str, Metric] = {
    metric.key: metric
    for metric in [
        Metric(
            "liked_photo",
            "Liked a photo",
            RATE,
            "production",
            "Share of people who liked at least one photo after exposure.",
        ),
        Metric(
            "likes_given",
            "Likes per person",
            MEAN,
            "production",
            "Likes given per person after exposure.",
        ),
        Metric(
            "uploaded_photo",
            "Uploaded a photo",
            RATE,
            "production",
            "Share of people who uploaded at least one photo after exposure.",
        ),
        Metric(
            "photos_uploaded",
            "Uploads per person",
            MEAN,
            "production",
            "Photos uploaded per person after exposure.",
        ),
        Metric(
            "commented",
            "Commented",
            RATE,
            "production",
            "Share of people who wrote at least one comment after exposure.",
        ),
        Metric(
            "photo_opened",
            "Opened a photo",
            RATE,
            "events",
            "Share of people who opened a photo from a grid of photos (recorded by the JS client).",
            client_recordable=True,
        ),
    ]
}
PRODUCTION = {
    "liked_photo": _production_rows("photos.Like", "user_id"),
    "likes_given": _production_rows("photos.Like", "user_id"),
    "uploaded_photo": _production_rows("photos.Photo", "owner_id"),
    "photos_uploaded": _production_rows("photos.Photo", "owner_id"),
    "commented": _production_rows("photos.Comment", "author_id"),
}


def metric_choices() -> list[tuple[str, str]]:
    return [(metric.key, metric.name) for metric in METRICS.values()]
