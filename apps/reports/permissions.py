"""Who may see which report and saved query, and who may use the query console.

The one place that decides: pages, the admin and the services all ask here.

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

from django.db.models import Q, QuerySet
from django.http import Http404
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import get_objects_for_user

from pinstablr.db.config import PRIMARY

from .models import Report, SavedQuery

CONSOLE_PERMISSIONS: dict[str, str] = {
    SavedQuery.Target.REPORTING: "reports.use_query_console",
    SavedQuery.Target.EXPERIMENTS_READ: "experiments.use_analysis_console",
    SavedQuery.Target.EXPERIMENTS: "experiments.use_analysis_console",
}


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def reports_for_user(user: Any) -> QuerySet[Report]:
    """Reports ``user`` may see, as one lazy query (no per-report permission checks)."""
    if not _active(user):
        return Report.objects.none()
    if user.is_superuser:
        return Report.objects.all()
    if not user.has_perm("reports.view_report"):
        return Report.objects.none()
    # On the primary: the grants are joined in, and a revoked one must stop working at once.
    return get_objects_for_user(
        user, "reports.view_report", klass=Report.objects.using(PRIMARY), accept_global_perms=False
    )


def report_get_for_user(user: Any, *, key: str) -> Report:
    """The report ``key`` if ``user`` may see it; 404 otherwise (also when it exists)."""
    report = reports_for_user(user).filter(key=key).first()
    if report is None:
        raise Http404("No such report.")
    return report


def may_see_reports(user: Any) -> bool:
    """Whether the Reports section is for ``user`` at all (the model-level permission)."""
    return _active(user) and (user.is_superuser or user.has_perm("reports.view_report"))


def saved_queries_for_user(user: Any) -> QuerySet[SavedQuery]:
    """Saved queries ``user`` owns or that were shared with them (or their group)."""
    if not _active(user):
        return SavedQuery.objects.none()
    if user.is_superuser:
        return SavedQuery.objects.all()
    if not user.has_perm("reports.view_savedquery"):
        return SavedQuery.objects.none()
    queries = SavedQuery.objects.using(PRIMARY)  # as for reports: never a stale grant
    shared = get_objects_for_user(
        user, "reports.view_savedquery", klass=queries, accept_global_perms=False
    )
    return queries.filter(Q(owner=user) | Q(pk__in=shared.values("pk")))


def saved_query_get_for_user(user: Any, *, query_id: int) -> SavedQuery:
    """The saved query if ``user`` may see it; 404 otherwise."""
    query = saved_queries_for_user(user).select_related("owner").filter(pk=query_id).first()
    if query is None:
        raise Http404("No such saved query.")
    return query


def _object_perm(user: Any, codename: str, query: SavedQuery) -> bool:
    # Object grants only: a team-wide permission must not open every query in the company.
    return ObjectPermissionChecker(user).has_perm(codename, query)


def can_view_sql(user: Any, query: SavedQuery) -> bool:
    """Whether ``user`` sees the text of ``query`` (owners always do)."""
    if not _active(user):
        return False
    return (
        user.is_superuser
        or query.owner_id == user.pk
        or _object_perm(user, "view_savedquery_sql", query)
    )


def can_edit_saved_query(user: Any, query: SavedQuery) -> bool:
    """Whether ``user`` may change the title, description or SQL of ``query``."""
    if not _active(user):
        return False
    if user.is_superuser or query.owner_id == user.pk:
        return True
    return _object_perm(user, "change_savedquery", query) and can_view_sql(user, query)


def can_manage_saved_query(user: Any, query: SavedQuery) -> bool:
    """Whether ``user`` may delete ``query`` or change who it is shared with."""
    return _active(user) and (user.is_superuser or query.owner_id == user.pk)


def can_run_console(user: Any, target: str) -> bool:
    """Whether ``user`` may write and run their own queries against ``target``."""
    if not _active(user) or target not in CONSOLE_PERMISSIONS:
        return False
    return bool(user.is_superuser or user.has_perm(CONSOLE_PERMISSIONS[target]))


def console_targets_for_user(user: Any) -> list[str]:
    """The console targets ``user`` may query, in a stable order."""
    return [target for target in CONSOLE_PERMISSIONS if can_run_console(user, target)]


def can_save_queries(user: Any) -> bool:
    """Whether ``user`` may keep console queries as saved queries."""
    return _active(user) and (user.is_superuser or user.has_perm("reports.add_savedquery"))
