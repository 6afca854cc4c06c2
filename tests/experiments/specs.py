"""Experiment specs for the pure assignment tests (no database)."""

from __future__ import annotations

from apps.experiments.bucketing import ExperimentSpec, VariantSpec


def spec(
    key: str = "home-feed-layout",
    weights: tuple[int, ...] = (50, 50),
    traffic_percent: float = 100,
    **fields,
) -> ExperimentSpec:
    variants = tuple(
        VariantSpec(id=index + 1, key=f"v{index}", weight=weight, is_control=index == 0)
        for index, weight in enumerate(weights)
    )
    return ExperimentSpec(
        id=fields.pop("id", 1),
        key=key,
        status=fields.pop("status", "running"),
        salt=fields.pop("salt", "pepper"),
        traffic_buckets=int(traffic_percent * 100),
        audience=fields.pop("audience", "everyone"),
        variants=variants,
        **fields,
    )
