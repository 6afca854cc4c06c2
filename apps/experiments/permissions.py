"""Who may see and change which experiment: the one place that decides.

* The model-level ``experiments.view_experiment`` (every UX team has it) shows every
  experiment; ``experiments.add_experiment`` lets a member create one for their team.
* Object-level ``change_experiment`` (and ``view_experiment``) are granted to the owning
  team's group when an experiment is created: only that team changes it. A member of another
  UX team sees it read-only.
* Superusers see and do everything.

Grants live in django-guardian's generic tables on ``default``, experiments in the
``experiments`` database: permitted ids are read from ``default`` first, then experiments
are fetched by id. Django refuses a subquery across two databases, and this costs a fixed
number of queries whatever the number of experiments.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import Http404
from guardian.models import GroupObjectPermission, UserObjectPermission

from pinstablr.db.config import PRIMARY

from .models import Experiment

VIEW = "experiments.view_experiment"
ADD = "experiments.add_experiment"
CHANGE = "experiments.change_experiment"


def _granted_ids(user: Any, codenames: tuple[str, ...]) -> set[int]:
    """Experiment ids on which ``user`` (or one of their groups) holds any of ``codenames``."""
    content_type = ContentType.objects.db_manager(PRIMARY).get_for_model(Experiment)
    filters = {"content_type": content_type, "permission__codename__in": codenames}
    by_user = UserObjectPermission.objects.using(PRIMARY).filter(user=user, **filters)
    by_group = GroupObjectPermission.objects.using(PRIMARY).filter(
        group__in=user.groups.all(), **filters
    )
    return {
        int(pk)
        for pk in [
            *by_user.values_list("object_pk", flat=True),
            *by_group.values_list("object_pk", flat=True),
        ]
        if str(pk).isdigit()
    }


def experiments_for_user(user: Any) -> QuerySet[Experiment]:
    """The experiments ``user`` may see."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Experiment.objects.none()
    if user.is_superuser or user.has_perm(VIEW):
        return Experiment.objects.all()
    return Experiment.objects.filter(
        pk__in=_granted_ids(user, ("view_experiment", "change_experiment"))
    )


def experiment_ids_changeable_by(user: Any) -> set[int] | None:
    """Ids ``user`` may change; None means all of them (superusers)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    if user.is_superuser:
        return None
    return _granted_ids(user, ("change_experiment",))


def experiment_get_for_user(user: Any, *, experiment_id: int | str) -> Experiment:
    """The experiment if ``user`` may see it; 404 otherwise (its existence stays private)."""
    try:
        return experiments_for_user(user).get(pk=int(experiment_id))
    except (Experiment.DoesNotExist, ValueError, TypeError) as error:
        raise Http404("No such experiment.") from error


def can_view_experiment(user: Any, experiment: Experiment) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(
        user.is_superuser
        or user.has_perm(VIEW)
        or user.has_perm(VIEW, experiment)
        or user.has_perm(CHANGE, experiment)
    )


def can_change_experiment(user: Any, experiment: Experiment) -> bool:
    """Only the owning team (through its object grant) and superusers change an experiment."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or user.has_perm(CHANGE, experiment))


def can_add_experiment(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.has_perm(ADD))


def teams_for_new_experiment(user: Any) -> QuerySet[Group]:
    """Groups that may own an experiment ``user`` creates: their own teams allowed to run
    experiments (any such team for a superuser)."""
    groups = Group.objects.using(PRIMARY).filter(
        permissions__content_type__app_label="experiments",
        permissions__codename="add_experiment",
    )
    if not user.is_superuser:
        groups = groups.filter(user=user)
    return groups.distinct().order_by("name")
