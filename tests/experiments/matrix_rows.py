"""The experiments app's rows of the permission matrix (tests/test_permission_matrix.py).

World: ``experiment``, a draft (control and treatment, 50/50) owned by the ``ux`` team, whose
group holds the object grants; ``ux_owner`` is in that team, ``ux_other`` in ``ux-growth``.
Admin pages send people who are not staff to the admin's login (302); staff without the UX
view permission (ops) get 403, as on the admin's own pages. Only the owning team (and
superusers) change or start it; only superusers delete, and only drafts.
"""

from __future__ import annotations

from typing import Any

from tests.permission_rows import Row

PUBLIC: set[str] = set()
NOT_STAFF = dict.fromkeys(
    ("anonymous", "user", "owner", "author", "marketing", "marketing_ungranted"), 302
)
EVERYONE = (
    "anonymous",
    "user",
    "owner",
    "author",
    "marketing",
    "marketing_ungranted",
    "ux_owner",
    "ux_other",
    "ops",
    "admin",
)


def staff(owner: int, other: int, *, ops: int = 403, admin: int | None = None) -> dict[str, int]:
    return {
        **NOT_STAFF,
        "ux_owner": owner,
        "ux_other": other,
        "ops": ops,
        "admin": owner if admin is None else admin,
    }


def experiment(world: Any) -> dict[str, Any]:
    return {"object_id": world.experiment.pk}


def start(world: Any) -> dict[str, Any]:
    return {"object_id": world.experiment.pk, "action": "start"}


ROWS = [
    Row("admin:experiments_experiment_changelist", "get", staff(200, 200)),
    Row("admin:experiments_experiment_add", "get", staff(200, 200)),
    Row("admin:experiments_experiment_change", "get", staff(200, 200), kwargs=experiment),
    # An empty form: the owners get it back with its errors, everyone else is refused.
    Row("admin:experiments_experiment_change", "post", staff(200, 403), data={}, kwargs=experiment),
    Row("admin:experiments_experiment_history", "get", staff(200, 200), kwargs=experiment),
    Row(
        "admin:experiments_experiment_delete", "get", staff(403, 403, admin=200), kwargs=experiment
    ),
    Row("admin:experiments_experiment_results", "get", staff(200, 200), kwargs=experiment),
    Row("admin:experiments_experiment_transition", "get", staff(200, 403), kwargs=start),
    Row("admin:experiments_experiment_transition", "post", staff(302, 403), kwargs=start),
    Row("admin:experiments_experiment_clone", "get", staff(200, 200), kwargs=experiment),
    Row("admin:experiments_experiment_clone", "post", staff(302, 302), kwargs=experiment),
    # Anyone may ask for their own variants and record their own conversions.
    Row("api:experiment-assignments", "get", dict.fromkeys(EVERYONE, 200)),
    Row(
        "api:experiment-events",
        "post",
        dict.fromkeys(EVERYONE, 202),
        data={"metric": "photo_opened"},
    ),
]


def populate_world(world: Any) -> None:
    """The experiment the rows act on, owned (and granted) to the ``ux`` team."""
    from tests.experiments.factories import ExperimentFactory

    world.experiment = ExperimentFactory(owning_team_id=world.teams["ux"].group.pk)
