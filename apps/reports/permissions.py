"""Who may see which report and saved query, and who may use the query console.

The one place that decides: pages, the admin and the services all ask here (the lists of
what a user may see are ``*_for_user`` selectors in ``selectors.py``, built on these rules).

* A team's purpose gives its group model-level permissions (what the job allows); guardian
  object grants say *which* reports and saved queries. Both are needed: a global
  ``view_report`` alone shows nothing, and an object grant to someone whose team no longer
  has the permission shows nothing either (``accept_global_perms=False``).
* Superusers see and do everything.
* Saved queries: owners see theirs; others see those shared with them or their group. The SQL
  of a shared query is shown only with ``view_savedquery_sql`` on it; results need only the
  query to be visible. Only the owner (or a ``change_savedquery`` grant) edits; only the owner
  deletes and shares.
* The console: ``reports.use_query_console`` for ``reporting``;
  ``experiments.use_analysis_console`` for ``experiments_read`` and ``experiments``.
  ``default`` is never a target.

Objects a user may not see are 404, actions on visible objects they may not do are 403.
"""

from __future__ import annotations

from typing import Any

from guardian.core import ObjectPermissionChecker

from apps.common.users import is_active_user

from .models import SavedQuery

CONSOLE_PERMISSIONS: dict[str, str] = {
    SavedQuery.Target.REPORTING: "reports.use_query_console",
    SavedQuery.Target.EXPERIMENTS_READ: "experiments.use_analysis_console",
    SavedQuery.Target.EXPERIMENTS: "experiments.use_analysis_console",
}


def may_see_reports(user: Any) -> bool:
    """Whether the Reports section is for ``user`` at all (the model-level permission)."""
    return is_active_user(user) and (user.is_superuser or user.has_perm("reports.view_report"))


def may_see_saved_queries(user: Any) -> bool:
    """Whether saved queries are for ``user`` at all (the model-level permission)."""
    return is_active_user(user) and (user.is_superuser or user.has_perm("reports.view_savedquery"))


def _object_perm(user: Any, codename: str, query: SavedQuery) -> bool:
    # Object grants only: a team-wide permission must not open every query in the company.
    return ObjectPermissionChecker(user).has_perm(codename, query)


def can_view_sql(user: Any, query: SavedQuery) -> bool:
    """Whether ``user`` sees the text of ``query`` (owners always do)."""
    if not is_active_user(user):
        return False
    return (
        user.is_superuser
        or query.owner_id == user.pk
        or _object_perm(user, "view_savedquery_sql", query)
    )


def can_edit_saved_query(user: Any, query: SavedQuery) -> bool:
    """Whether ``user`` may change the title, description or SQL of ``query``."""
    if not is_active_user(user):
        return False
    if user.is_superuser or query.owner_id == user.pk:
        return True
    return _object_perm(user, "change_savedquery", query) and can_view_sql(user, query)


def can_manage_saved_query(user: Any, query: SavedQuery) -> bool:
    """Whether ``user`` may delete ``query`` or change who it is shared with."""
    return is_active_user(user) and (user.is_superuser or query.owner_id == user.pk)


def can_run_console(user: Any, target: str) -> bool:
    """Whether ``user`` may write and run their own queries against ``target``."""
    if not is_active_user(user) or target not in CONSOLE_PERMISSIONS:
        return False
    return bool(user.is_superuser or user.has_perm(CONSOLE_PERMISSIONS[target]))


def can_save_queries(user: Any) -> bool:
    """Whether ``user`` may keep console queries as saved queries."""
    return is_active_user(user) and (user.is_superuser or user.has_perm("reports.add_savedquery"))
