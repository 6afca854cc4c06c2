"""Who may see and change which experiment: the one place that decides.

* The model-level ``experiments.view_experiment`` (every UX team has it) shows every
  experiment; ``experiments.add_experiment`` lets a member create one for their team.
* Object-level ``change_experiment`` (and ``view_experiment``) are granted to the owning
  team's group when an experiment is created: only that team changes it. A member of another
  UX team sees it read-only.
* Superusers see and do everything.

The lists of what a user may see are ``*_for_user`` selectors in ``selectors.py``.
"""

from __future__ import annotations

from typing import Any

from apps.common.users import is_active_user

from .models import Experiment

VIEW = "experiments.view_experiment"
ADD = "experiments.add_experiment"
CHANGE = "experiments.change_experiment"


def may_see_experiments(user: Any) -> bool:
    """Whether ``user`` sees every experiment (the model-level view permission)."""
    return is_active_user(user) and bool(user.is_superuser or user.has_perm(VIEW))


def can_view_experiment(user: Any, experiment: Experiment) -> bool:
    """Whether ``user`` may see ``experiment`` (any UX team, or a grant on it)."""
    if not is_active_user(user):
        return False
    return bool(
        user.is_superuser
        or user.has_perm(VIEW)
        or user.has_perm(VIEW, experiment)
        or user.has_perm(CHANGE, experiment)
    )


def can_change_experiment(user: Any, experiment: Experiment) -> bool:
    """Only the owning team (through its object grant) and superusers change an experiment."""
    if not is_active_user(user):
        return False
    return bool(user.is_superuser or user.has_perm(CHANGE, experiment))


def can_add_experiment(user: Any) -> bool:
    """Whether ``user`` may create an experiment for one of their teams."""
    return is_active_user(user) and bool(user.has_perm(ADD))
