"""The one database router: which alias each read, write, relation and migration uses.

Rules (each covered by tests/pinstablr/db/test_router_decisions.py):

* The experiments app lives only in ``experiments``: its reads, writes and migrations go
  there, and nothing else does.
* Every other write goes to ``default``. ``reporting`` and ``experiments_read`` are read
  explicitly with ``.using()`` by the reports and experiment-analysis code; they and the
  replicas are never migrated, and a write through them is refused (see ``guards``).
* Auth, sessions, content types, the admin log, tokens and django-guardian always use
  ``default``: guardian does not support several databases, and a permission or password
  change must hold on the very next request.
* Other reads go to a healthy replica unless the caller must see its own writes: inside a
  transaction on the primary, after a write in the same request or task, during an unsafe
  HTTP request, or while the replicas have not yet applied the client's last write.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Model

from . import state as routing
from .config import EXPERIMENTS, PRIMARY, read_only_aliases
from .replicas import ReplicaPool, get_pool

EXPERIMENTS_APPS = frozenset({"experiments"})
PRIMARY_ONLY_APPS = frozenset(
    {"auth", "sessions", "contenttypes", "admin", "guardian", "django_celery_beat"}
)
# Models of other apps read only on the primary: a revoked API token must be refused on the
# very next request.
PRIMARY_ONLY_MODELS = frozenset({"accounts.ApiToken"})


def _app_label(model: type[Model]) -> str:
    return model._meta.app_label


@functools.cache
def is_primary_only(model: type[Model]) -> bool:
    """Models whose reads must never be stale: accounts, sessions and every permission table.

    Object permissions kept in an app's own tables (guardian's direct foreign-key models)
    count too: a revoked grant must stop working on the very next request, which a lagging
    replica would not guarantee.
    """
    from guardian.models import BaseObjectPermission

    return (
        _app_label(model) in PRIMARY_ONLY_APPS
        or model._meta.label == settings.AUTH_USER_MODEL
        or model._meta.label in PRIMARY_ONLY_MODELS
        or issubclass(model, BaseObjectPermission)
    )


def data_group(alias: str) -> str:
    """Aliases holding the same data: the experiments database, or the primary and its copies."""
    return EXPERIMENTS if alias == EXPERIMENTS else PRIMARY


def choose_read_alias(
    current: routing.RoutingState,
    *,
    pool: ReplicaPool,
    in_atomic_block: bool,
    now: float,
) -> str:
    """Where an ordinary read goes, given the routing state of the request or task."""
    if in_atomic_block or current.primary_only or current.wrote:
        return PRIMARY
    if current.required_position is None and now < current.pinned_until:
        return PRIMARY
    if current.chosen_replica is None:
        current.chosen_replica = pool.pick(
            current.required_position, exclude=current.failed_replicas
        )
    return current.chosen_replica or PRIMARY


class TopologyRouter:
    """Django database router for the Pinstablr topology."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        if _app_label(model) in EXPERIMENTS_APPS:
            return EXPERIMENTS
        if is_primary_only(model):
            return PRIMARY
        return choose_read_alias(
            routing.current(),
            pool=get_pool(),
            in_atomic_block=connections[PRIMARY].in_atomic_block,
            now=time.time(),
        )

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        if _app_label(model) in EXPERIMENTS_APPS:
            return EXPERIMENTS
        # Mark the write before it happens, so reads in the same request follow it.
        routing.current().wrote = True
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        """Rows may relate only within one database's data: never across to experiments."""
        aliases = (obj1._state.db or PRIMARY, obj2._state.db or PRIMARY)
        return data_group(aliases[0]) == data_group(aliases[1])

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool:
        if db in read_only_aliases(settings.DATABASES):
            return False
        if db == EXPERIMENTS:
            return app_label in EXPERIMENTS_APPS
        return app_label not in EXPERIMENTS_APPS
