"""Saved queries: create, change, delete, and share them with people or groups."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from guardian.shortcuts import assign_perm, get_groups_with_perms, get_users_with_perms, remove_perm

from apps.accounts.models import User

from ..models import SavedQuery
from ..permissions import can_run_console, can_save_queries
from .console import QueryRefused, console_targets, query_check

VIEW = "view_savedquery"
VIEW_SQL = "view_savedquery_sql"


def _checked(*, title: str, sql: str, target: str) -> tuple[str, str]:
    title = title.strip()
    if not title:
        raise ValidationError({"title": "Give the query a title."})
    if target not in console_targets():
        raise ValidationError({"target": "Choose a database the console can read."})
    try:
        query_check(sql=sql, target=target)
    except QueryRefused as error:
        raise ValidationError({"sql": str(error)}) from error
    return title, sql.strip()


@transaction.atomic
def saved_query_create(
    *, owner: User, title: str, sql: str, target: str, description: str = ""
) -> SavedQuery:
    """Keep a console query under a title. Needs the console for ``target`` and the right to
    save queries."""
    if not (can_save_queries(owner) and can_run_console(owner, target)):
        raise PermissionDenied("You may not save queries for this database.")
    title, sql = _checked(title=title, sql=sql, target=target)
    return SavedQuery.objects.create(
        owner=owner, title=title, sql=sql, target=target, description=description.strip()
    )


@transaction.atomic
def saved_query_update(
    *, query: SavedQuery, title: str, sql: str, description: str = ""
) -> SavedQuery:
    """Change a saved query's title, description or SQL (the caller checked the right)."""
    query.title, query.sql = _checked(title=title, sql=sql, target=query.target)
    query.description = description.strip()
    query.save(update_fields=["title", "sql", "description", "updated_at"])
    return query


@transaction.atomic
def saved_query_delete(*, query: SavedQuery) -> None:
    """Delete a saved query; its run log stays, without the link."""
    query.delete()


@transaction.atomic
def saved_query_share(
    *, query: SavedQuery, group: Group | None = None, user: User | None = None, with_sql: bool
) -> None:
    """Let a group or a person see ``query``'s results, and its SQL if ``with_sql``."""
    if (group is None) == (user is None):
        raise ValueError("share with exactly one group or one user")
    grantee: User | Group = group if group is not None else user  # type: ignore[assignment]
    if user is not None and user.pk == query.owner_id:
        raise ValidationError("The owner already sees the query.")
    assign_perm(VIEW, grantee, query)
    if with_sql:
        assign_perm(VIEW_SQL, grantee, query)
    else:
        remove_perm(VIEW_SQL, grantee, query)


@transaction.atomic
def saved_query_unshare(
    *, query: SavedQuery, group: Group | None = None, user: User | None = None
) -> None:
    """Take back a share made with :func:`saved_query_share`."""
    grantee: User | Group | None = group if group is not None else user
    if grantee is None:
        raise ValueError("unshare from a group or a user")
    for codename in (VIEW, VIEW_SQL):
        remove_perm(codename, grantee, query)


@dataclass(frozen=True)
class Shares:
    """Who a saved query is shared with, each with whether they see its SQL."""

    groups: list[tuple[Group, bool]]
    users: list[tuple[User, bool]]


def saved_query_shares(*, query: SavedQuery) -> Shares:
    """Who ``query`` is shared with (object grants only; the owner is not listed)."""
    groups: dict[Group, list[str]] = get_groups_with_perms(query, attach_perms=True)  # type: ignore[assignment]
    users: dict[User, list[str]] = get_users_with_perms(
        query, attach_perms=True, with_superusers=False, with_group_users=False
    )  # type: ignore[assignment]
    return Shares(
        groups=[(g, VIEW_SQL in perms) for g, perms in groups.items() if VIEW in perms],
        users=[(u, VIEW_SQL in perms) for u, perms in users.items() if VIEW in perms],
    )
