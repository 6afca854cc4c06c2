"""Writing the audit log."""

from __future__ import annotations

from typing import Any, NamedTuple

from django.db import models

from pinstablr.db.config import PRIMARY

from .context import current_actor
from .models import AuditEntry


class Target(NamedTuple):
    """An object named by type and id, for targets that may already be gone."""

    type: str
    id: str
    repr: str


def describe(*, obj: models.Model) -> Target:
    """What the audit log records of ``obj``: its model, id and name."""
    return Target(obj._meta.label_lower, str(obj.pk), str(obj)[:200])


def audit_record(
    *,
    action: str,
    target: models.Model | Target,
    detail: dict[str, Any] | None = None,
    actor: Any = None,
) -> AuditEntry:
    """Record ``action`` on ``target``, by ``actor`` or else the current request's user."""
    actor = actor if actor is not None else current_actor()
    named = target if isinstance(target, Target) else describe(obj=target)
    return AuditEntry.objects.using(PRIMARY).create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        action=action,
        target_type=named.type,
        target_id=named.id,
        target_repr=named.repr[:200],
        detail=detail or {},
    )
