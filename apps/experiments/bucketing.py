"""Deterministic assignment: the same unit always lands in the same variant.

A unit (``u<user id>``, or ``a<anonymous id>`` for signed-out visitors) is hashed into one of
10,000 buckets twice, with two independent seeds:

* the *traffic* hash decides whether the unit is in the experiment at all: bucket below the
  traffic share. Raising the traffic only adds buckets, so everyone already in stays in;
* the *variant* hash (experiment key + salt + unit) picks the variant by cumulative weight.
  It does not depend on the traffic share, so changing it never moves anyone between
  variants.

Experiments in a *layer* are mutually exclusive: the traffic hash is the layer's (the same
for every experiment in it) and each experiment owns its own slice of the layer's buckets.

Everything here is pure: specs in, a variant out, no database and no cache.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

BUCKETS = 10_000
RUNNING = "running"


def bucket(seed: str, unit_id: str) -> int:
    """The unit's bucket in ``[0, 10000)`` for ``seed``; uniform and stable across processes."""
    digest = hashlib.sha256(f"{seed}:{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


@dataclass(frozen=True)
class VariantSpec:
    id: int
    key: str
    weight: int
    is_control: bool
    config: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Viewer:
    """What the audience rules need to know about whoever is looking."""

    user_id: int | None = None
    is_staff: bool = False
    joined_at: float | None = None  # epoch seconds

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None


@dataclass(frozen=True)
class ExperimentSpec:
    """A cache-friendly copy of an experiment: all assignment needs, no model instances."""

    id: int
    key: str
    status: str
    salt: str
    traffic_buckets: int
    audience: str
    variants: tuple[VariantSpec, ...]
    starts_at: float | None = None
    ends_at: float | None = None
    started_at: float | None = None
    layer: str = ""
    layer_offset: int | None = None
    # QA: user id -> variant key.
    forced: dict[int, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def control(self) -> VariantSpec | None:
        return next((v for v in self.variants if v.is_control), None) or (
            self.variants[0] if self.variants else None
        )

    def variant(self, key: str) -> VariantSpec | None:
        return next((v for v in self.variants if v.key == key), None)

    def boundaries(self) -> list[int]:
        """Upper bucket bound of each variant, by cumulative weight."""
        total = sum(v.weight for v in self.variants)
        bounds, running = [], 0
        for v in self.variants:
            running += v.weight
            bounds.append(round(running * BUCKETS / total))
        return bounds


def eligible(spec: ExperimentSpec, viewer: Viewer) -> bool:
    """Whether the audience rule admits this viewer."""
    if spec.audience == "everyone":
        return True
    if not viewer.signed_in:
        return False
    if spec.audience == "staff":
        return viewer.is_staff
    if spec.audience == "new_users":
        # Joined after the start: a stable rule, so nobody ages out of the experiment.
        return (
            spec.started_at is not None
            and viewer.joined_at is not None
            and viewer.joined_at >= spec.started_at
        )
    return True  # signed_in


def in_traffic(spec: ExperimentSpec, unit_id: str) -> bool:
    if spec.layer:
        offset = spec.layer_offset or 0
        return offset <= bucket(f"layer:{spec.layer}", unit_id) < offset + spec.traffic_buckets
    return bucket(f"{spec.key}:{spec.salt}:traffic", unit_id) < spec.traffic_buckets


def pick_variant(spec: ExperimentSpec, unit_id: str) -> VariantSpec:
    """The variant for a unit that is in the experiment."""
    position = bucket(f"{spec.key}:{spec.salt}", unit_id)
    for variant, bound in zip(spec.variants, spec.boundaries(), strict=True):
        if position < bound:
            return variant
    return spec.variants[-1]


def assign(
    spec: ExperimentSpec, *, unit_id: str | None, viewer: Viewer, now: float
) -> VariantSpec | None:
    """The unit's variant, or None when it is not in the experiment (show the control)."""
    if spec.status != RUNNING or not spec.variants or unit_id is None:
        return None
    if (spec.starts_at is not None and now < spec.starts_at) or (
        spec.ends_at is not None and now >= spec.ends_at
    ):
        return None
    if not eligible(spec, viewer) or not in_traffic(spec, unit_id):
        return None
    return pick_variant(spec, unit_id)
