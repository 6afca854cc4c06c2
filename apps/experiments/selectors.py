"""Reads of the experiments app that depend on who asks (the rules are in ``permissions.py``).

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

from apps.common.users import is_active_user
from pinstablr.db.config import PRIMARY

from .models import Experiment
from .permissions import may_see_experiments


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


def experiments_for_user(*, user: Any) -> QuerySet[Experiment]:
    """The experiments ``user`` may see."""
    if not is_active_user(user):
        return Experiment.objects.none()
    if may_see_experiments(user):
        return Experiment.objects.all()
    return Experiment.objects.filter(
        pk__in=_granted_ids(user, ("view_experiment", "change_experiment"))
    )


def experiment_get_for_user(*, user: Any, experiment_id: int | str) -> Experiment:
    """The experiment if ``user`` may see it; 404 otherwise (its existence stays private)."""
    try:
        return experiments_for_user(user=user).get(pk=int(experiment_id))
    except (Experiment.DoesNotExist, ValueError, TypeError) as error:
        raise Http404("No such experiment.") from error


def teams_for_new_experiment(*, user: Any) -> QuerySet[Group]:
    """Groups that may own an experiment ``user`` creates (their teams allowed to run them)."""
    groups = Group.objects.using(PRIMARY).filter(
        permissions__content_type__app_label="experiments",
        permissions__codename="add_experiment",
    )
    if not user.is_superuser:
        groups = groups.filter(user=user)
    return groups.distinct().order_by("name")
