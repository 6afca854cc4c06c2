"""Changing experiments: creation with its team's grants, the status actions, clones.

Writes go to the ``experiments`` database in one transaction; the owning team's object
grants go to ``default`` (guardian) inside it, so a failed grant leaves no experiment
nobody may change. Every change refreshes the live experiments (``signals``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from pinstablr.db.config import EXPERIMENTS, PRIMARY

from .bucketing import BUCKETS
from .models import Experiment, Variant
from .permissions import can_add_experiment, can_change_experiment
from .selectors import teams_for_new_experiment

Status = Experiment.Status


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple[str, ...]
    target: str
    explanation: str

    @property
    def past(self) -> str:
        return {"start": "started", "pause": "paused", "stop": "stopped"}.get(
            self.action, "archived"
        )


TRANSITIONS = {
    t.action: t
    for t in [
        Transition(
            "start",
            "Start",
            (Status.DRAFT, Status.PAUSED),
            Status.RUNNING,
            "People are assigned and exposures counted from now on. Variants, weights, "
            "key and salt are locked for good once it has started.",
        ),
        Transition(
            "pause",
            "Pause",
            (Status.RUNNING,),
            Status.PAUSED,
            "Everyone sees the control and nobody new is counted until you start it "
            "again; results keep what was measured.",
        ),
        Transition(
            "stop",
            "Stop",
            (Status.RUNNING, Status.PAUSED),
            Status.STOPPED,
            "Everyone sees the control from now on. Results are final once the last "
            "recomputation has run. A stopped experiment cannot be started again.",
        ),
        Transition(
            "archive",
            "Archive",
            (Status.DRAFT, Status.STOPPED),
            Status.ARCHIVED,
            "Hides it from the everyday list. Results stay readable.",
        ),
    ]
}


def _on_primary(experiment: Experiment) -> Experiment:
    """A stand-in for ``experiment`` that guardian can file under ``default``.

    Guardian resolves (and caches) the content type and object of a grant on the object's
    own database; experiments live in ``experiments``, which has neither content types nor
    grants. The stand-in carries the same id and names and claims ``default``.
    """
    stand_in = Experiment(pk=experiment.pk, key=experiment.key, name=experiment.name)
    stand_in._state.db = PRIMARY
    stand_in._state.adding = False
    return stand_in


def experiment_grant_team(*, experiment: Experiment) -> None:
    """Give the owning team's group change (and view) on this one experiment."""
    group = Group.objects.using(PRIMARY).get(pk=experiment.owning_team_id)
    target = _on_primary(experiment)
    with transaction.atomic(using=PRIMARY):
        assign_perm("experiments.change_experiment", group, target)
        assign_perm("experiments.view_experiment", group, target)


def variants_validate(variants: list[dict[str, Any]]) -> None:
    """At least two arms, exactly one control, distinct keys, weights adding up to 100."""
    live = [v for v in variants if not v.get("DELETE")]
    errors = []
    if len(live) < 2:
        errors.append("An experiment needs at least two variants (a control and a treatment).")
    if sum(1 for v in live if v.get("is_control")) != 1:
        errors.append("Mark exactly one variant as the control.")
    keys = [v.get("key") for v in live]
    if len(set(keys)) != len(keys):
        errors.append("Each variant needs its own key.")
    total = sum(int(v.get("weight") or 0) for v in live)
    if live and total != 100:
        errors.append(f"Weights must add up to 100 (they add up to {total}).")
    if errors:
        raise ValidationError(errors)


def _variant_rows(experiment: Experiment) -> list[dict[str, Any]]:
    return [dict(row) for row in experiment.variants.values("key", "weight", "is_control")]


def layer_offset_free(
    *, experiment: Experiment, traffic_buckets: int, offset: int | None = None
) -> int | None:
    """The first layer bucket of a free slice this size (or check ``offset`` is free)."""
    taken = sorted(
        (other.layer_offset or 0, (other.layer_offset or 0) + other.traffic_buckets)
        for other in Experiment.objects.using(EXPERIMENTS)
        .filter(layer=experiment.layer, status__in=(Status.RUNNING, Status.PAUSED))
        .exclude(pk=experiment.pk)
    )
    if offset is not None:
        end = offset + traffic_buckets
        clear = end <= BUCKETS and all(end <= lo or offset >= hi for lo, hi in taken)
        return offset if clear else None
    start = 0
    for low, high in taken:
        if low - start >= traffic_buckets:
            return start
        start = max(start, high)
    return start if BUCKETS - start >= traffic_buckets else None


def experiment_validate_traffic(*, experiment: Experiment) -> None:
    """A layered experiment that has its slice may only grow into free buckets."""
    if not experiment.layer or experiment.layer_offset is None:
        return
    if experiment.status not in (Status.RUNNING, Status.PAUSED):
        return
    free = layer_offset_free(
        experiment=experiment,
        traffic_buckets=experiment.traffic_buckets,
        offset=experiment.layer_offset,
    )
    if free is None:
        raise ValidationError(
            {
                "traffic_percent": f"Layer '{experiment.layer}' has no room for this much traffic "
                "next to its other running experiments."
            }
        )


def experiment_transition(*, experiment: Experiment, action: str, actor: Any) -> Experiment:
    """Start, pause, stop or archive, if the actor's team owns the experiment."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValidationError(f"Unknown action {action!r}.")
    if not can_change_experiment(actor, experiment):
        raise PermissionDenied("Only the team that owns this experiment can change it.")
    with transaction.atomic(using=EXPERIMENTS):
        current = Experiment.objects.using(EXPERIMENTS).select_for_update().get(pk=experiment.pk)
        if current.status not in transition.sources:
            raise ValidationError(
                f"A {current.get_status_display().lower()} experiment cannot be {transition.past}."
            )
        now = timezone.now()
        if action == "start":
            variants_validate(_variant_rows(current))
            if current.ends_at is not None and current.ends_at <= now:
                raise ValidationError("Its end date has passed: move it before starting.")
            if current.layer and current.layer_offset is None:
                current.layer_offset = layer_offset_free(
                    experiment=current, traffic_buckets=current.traffic_buckets
                )
                if current.layer_offset is None:
                    raise ValidationError(
                        f"Layer '{current.layer}' has no free traffic for "
                        f"{current.traffic_percent}%: lower the traffic or stop another."
                    )
            experiment_validate_traffic(experiment=current)
            current.started_at = current.started_at or now
        if action == "stop":
            current.stopped_at = now
        current.status = transition.target
        current.save()
    return current


def _clone_key(key: str) -> str:
    base = key[:70]
    taken = set(
        Experiment.objects.using(EXPERIMENTS)
        .filter(key__startswith=base)
        .values_list("key", flat=True)
    )
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def experiment_clone(*, experiment: Experiment, actor: Any) -> Experiment:
    """A new draft with the same design, variants and metrics, and a fresh salt.

    It belongs to the original's team if the actor is in it, else to the actor's first team
    allowed to run experiments.
    """
    if not can_add_experiment(actor) and not actor.is_superuser:
        raise PermissionDenied("You cannot create experiments.")
    teams = teams_for_new_experiment(user=actor)
    team = teams.filter(pk=experiment.owning_team_id).first() or teams.first()
    if team is None and actor.is_superuser:
        team = Group.objects.using(PRIMARY).filter(pk=experiment.owning_team_id).first()
    if team is None:
        raise PermissionDenied("You are in no team that runs experiments.")
    with transaction.atomic(using=EXPERIMENTS):
        clone = Experiment.objects.using(EXPERIMENTS).create(
            key=_clone_key(experiment.key),
            name=f"{experiment.name} (copy)"[:200],
            hypothesis=experiment.hypothesis,
            owning_team_id=team.pk,
            traffic_percent=experiment.traffic_percent,
            audience=experiment.audience,
            layer=experiment.layer,
            primary_metric=experiment.primary_metric,
            guardrail_metrics=list(experiment.guardrail_metrics or []),
            minimum_detectable_effect=experiment.minimum_detectable_effect,
            created_by_id=actor.pk,
        )
        Variant.objects.using(EXPERIMENTS).bulk_create(
            Variant(
                experiment=clone,
                key=v.key,
                name=v.name,
                weight=v.weight,
                is_control=v.is_control,
                config=v.config,
            )
            for v in experiment.variants.all()
        )
        experiment_grant_team(experiment=clone)
    return clone


def experiment_create(
    *,
    actor: Any,
    owning_team: Group,
    key: str,
    name: str,
    primary_metric: str,
    variants: list[dict[str, Any]],
    **fields: Any,
) -> Experiment:
    """A draft experiment with its variants, owned by one of the actor's teams.

    ``actor=None`` is the system itself (``load_site_experiments``): any team may own it.
    """
    if (
        actor is not None
        and not teams_for_new_experiment(user=actor).filter(pk=owning_team.pk).exists()
    ):
        raise PermissionDenied("Experiments belong to a team you are in that runs experiments.")
    variants_validate(variants)
    with transaction.atomic(using=EXPERIMENTS):
        experiment = Experiment(
            key=key,
            name=name,
            primary_metric=primary_metric,
            owning_team_id=owning_team.pk,
            created_by_id=actor.pk if actor is not None else None,
            **fields,
        )
        experiment.full_clean()
        experiment.save(using=EXPERIMENTS)
        for data in variants:
            variant = Variant(experiment=experiment, **data)
            variant.full_clean(exclude=["experiment"])
            variant.save(using=EXPERIMENTS)
        experiment_grant_team(experiment=experiment)
    return experiment
