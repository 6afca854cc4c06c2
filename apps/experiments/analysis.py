"""Experiment results: computed by a periodic task and stored, never on a page view.

Exposed units are streamed from the ``experiments`` database in chunks; each chunk's metric
values come from ``experiments_read`` (production rows) or ``experiments`` (events), never
from ``default``. Per variant only running moments are kept, so memory does not grow with
the number of units.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from pinstablr.db.config import EXPERIMENTS

from . import stats
from .metrics import MEAN, METRICS, RATE, Metric, UnitExposure
from .models import Experiment, ExperimentResult, Exposure, Variant

logger = logging.getLogger(__name__)
CHUNK = 2000
# Below this many units per variant the normal approximations are not to be trusted.
MIN_UNITS = 100
MIN_CONVERSIONS = 10
# Stopped experiments are recomputed for a while (late events, flushes in flight).
RECOMPUTE_AFTER_STOP = timedelta(days=2)


def _stream_units(experiment: Experiment) -> Any:
    """Chunks of ``(variant_id, UnitExposure)``, in id order."""
    last_id = 0
    while True:
        rows = list(
            Exposure.objects.using(EXPERIMENTS)
            .filter(experiment=experiment, id__gt=last_id)
            .order_by("id")
            .values_list("id", "variant_id", "unit_id", "user_id", "exposed_at")[:CHUNK]
        )
        if not rows:
            return
        last_id = rows[-1][0]
        yield [(variant_id, UnitExposure(unit, user, at)) for _, variant_id, unit, user, at in rows]


def _measure(
    experiment: Experiment, metrics: list[Metric], variants: list[Variant]
) -> dict[str, dict[int, stats.Moments]]:
    moments = {m.key: {v.pk: stats.Moments() for v in variants} for m in metrics}
    until = experiment.stopped_at
    for chunk in _stream_units(experiment):
        units = [unit for _, unit in chunk]
        for metric in metrics:
            values = metric.values(units, until=until)
            zeros: dict[int, int] = defaultdict(int)
            for variant_id, unit in chunk:
                value = values.get(unit.unit_id, 0.0)
                if value:
                    moments[metric.key][variant_id].add(value)
                else:
                    zeros[variant_id] += 1
            for variant_id, count in zeros.items():
                moments[metric.key][variant_id].add_zeros(count)
    return moments


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def _metric_result(
    experiment: Experiment,
    metric: Metric,
    role: str,
    variants: list[Variant],
    moments: dict[int, stats.Moments],
) -> dict[str, Any]:
    control = next(v for v in variants if v.is_control)
    base = moments[control.pk]
    rows = []
    for v in variants:
        m = moments[v.pk]
        rows.append(
            {
                "key": v.key,
                "is_control": v.is_control,
                "n": m.n,
                "conversions": m.positives if metric.kind == RATE else None,
                "value": _round(m.mean),
                "std": _round(m.variance**0.5),
            }
        )
    comparisons: list[dict[str, Any]] = []
    warnings: list[str] = []
    for v in variants:
        if v.is_control:
            continue
        m = moments[v.pk]
        comparison: stats.Comparison | None = None
        try:
            if metric.kind == RATE:
                comparison = stats.two_proportion_test(base.positives, base.n, m.positives, m.n)
            else:
                comparison = stats.welch_test(
                    base.mean, base.variance, base.n, m.mean, m.variance, m.n
                )
        except ValueError:
            comparison = None
        if comparison is None:
            comparisons.append({"variant": v.key, "p_value": None})
            continue
        comparisons.append(
            {
                "variant": v.key,
                "absolute_lift": _round(comparison.absolute_lift),
                "absolute_ci": [_round(x) for x in comparison.absolute_ci],
                "relative_lift": _round(comparison.relative_lift),
                "relative_ci": (
                    [_round(x) for x in comparison.relative_ci] if comparison.relative_ci else None
                ),
                "statistic": _round(comparison.statistic),
                "p_value": comparison.p_value,
            }
        )
    tested = [c for c in comparisons if c["p_value"] is not None]
    adjusted = stats.holm([c["p_value"] for c in tested])
    for c, p_adjusted in zip(tested, adjusted, strict=True):
        c["p_adjusted"] = p_adjusted if len(tested) > 1 else c["p_value"]
        c["significant"] = c["p_adjusted"] < stats.ALPHA
        c["direction"] = (
            "better"
            if c["significant"] and c["absolute_lift"] > 0
            else "worse"
            if c["significant"]
            else "inconclusive"
        )
    effect = float(experiment.minimum_detectable_effect) / 100
    if metric.kind == RATE:
        required = stats.sample_size_for_rate(base.mean, effect) if base.n else None
    else:
        required = (
            stats.sample_size_for_mean(base.mean, base.variance**0.5, effect)
            if base.n > 1
            else None
        )
    smallest = min(moments[v.pk].n for v in variants)
    if smallest < MIN_UNITS or (
        metric.kind == RATE and min(moments[v.pk].positives for v in variants) < MIN_CONVERSIONS
    ):
        warnings.append(
            f"Too little data: every variant needs at least {MIN_UNITS} people"
            + (f" and {MIN_CONVERSIONS} conversions" if metric.kind == RATE else "")
            + " before these numbers mean anything."
        )
    elif required is not None and smallest < required:
        warnings.append(
            f"Not conclusive yet: {required:,} people per variant are needed to detect a "
            f"{experiment.minimum_detectable_effect}% change (the smallest variant has "
            f"{smallest:,}). Deciding earlier inflates false positives."
        )
    return {
        "key": metric.key,
        "name": metric.name,
        "kind": metric.kind,
        "role": role,
        "source": metric.source,
        "description": metric.description,
        "variants": rows,
        "comparisons": comparisons,
        "required_per_variant": required,
        "warnings": warnings,
    }


def experiment_results_compute(*, experiment: Experiment) -> ExperimentResult:
    """Recompute and store the results of one experiment."""
    variants = list(experiment.variants.all())
    if not any(v.is_control for v in variants):
        raise ValueError(f"experiment {experiment.key} has no control variant")
    counts = dict(
        Exposure.objects.using(EXPERIMENTS)
        .filter(experiment=experiment)
        .values_list("variant_id")
        .annotate(n=Count("id"))
        .values_list("variant_id", "n")
    )
    observed = [counts.get(v.pk, 0) for v in variants]
    srm = stats.sample_ratio_mismatch(observed, [v.weight for v in variants])
    daily_rows = (
        Exposure.objects.using(EXPERIMENTS)
        .filter(experiment=experiment)
        .annotate(day=TruncDate("exposed_at"))
        .values_list("day", "variant_id")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    days: dict[str, dict[int, int]] = defaultdict(dict)
    for day, variant_id, n in daily_rows:
        days[day.isoformat()][variant_id] = n
    metric_roles = [(experiment.primary_metric, "primary")] + [
        (key, "guardrail") for key in experiment.guardrail_metrics or [] if key in METRICS
    ]
    metrics = [METRICS[key] for key, _ in metric_roles if key in METRICS]
    moments = _measure(experiment, metrics, variants)
    data = {
        "variants": [
            {
                "key": v.key,
                "name": v.name,
                "is_control": v.is_control,
                "weight": v.weight,
                "exposures": n,
                "expected": round(e, 1),
            }
            for v, n, e in zip(variants, observed, srm.expected, strict=True)
        ],
        "daily": {
            "dates": list(days),
            "series": {v.key: [days[d].get(v.pk, 0) for d in days] for v in variants},
        },
        "srm": {
            "statistic": srm.statistic,
            "p_value": srm.p_value,
            "alarm": srm.alarm,
            "alpha": stats.SRM_ALPHA,
        },
        "metrics": [
            _metric_result(experiment, METRICS[key], role, variants, moments[key])
            for key, role in metric_roles
            if key in METRICS
        ],
        "window": {
            "from": experiment.started_at.isoformat() if experiment.started_at else None,
            "to": experiment.stopped_at.isoformat() if experiment.stopped_at else None,
        },
        "mean_kind": MEAN,
    }
    result, _ = ExperimentResult.objects.using(EXPERIMENTS).update_or_create(
        experiment=experiment,
        defaults={
            "computed_at": timezone.now(),
            "exposures": sum(observed),
            "srm_p_value": srm.p_value,
            "srm_alarm": srm.alarm,
            "data": data,
        },
    )
    return result


def experiments_stop_ended() -> int:
    """Stop running experiments whose end date has passed; how many."""
    now = timezone.now()
    return (
        Experiment.objects.using(EXPERIMENTS)
        .filter(status__in=(Experiment.Status.RUNNING, Experiment.Status.PAUSED), ends_at__lte=now)
        .update(status=Experiment.Status.STOPPED, stopped_at=now)
    )


def experiments_results_refresh() -> int:
    """Recompute every experiment that is running, paused or recently stopped."""
    from .snapshot import experiments_changed

    if experiments_stop_ended():
        experiments_changed()
    recent = timezone.now() - RECOMPUTE_AFTER_STOP
    due = Experiment.objects.using(EXPERIMENTS).filter(
        status__in=(Experiment.Status.RUNNING, Experiment.Status.PAUSED)
    ) | Experiment.objects.using(EXPERIMENTS).filter(
        status=Experiment.Status.STOPPED, stopped_at__gte=recent
    )
    done = 0
    for experiment in due.prefetch_related("variants"):
        try:
            experiment_results_compute(experiment=experiment)
            done += 1
        except Exception:  # one broken experiment must not block the others
            logger.exception("results of experiment %s not computed", experiment.key)
    return done
