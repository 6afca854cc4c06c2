"""Creating teams and managing their members."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import router, transaction
from django.db.models import Q
from guardian.models import GroupObjectPermission, UserObjectPermission

from apps.accounts.models import User
from pinstablr.db.config import PRIMARY

from .models import Team
from .purposes import PURPOSE_PERMISSIONS, STAFF_PURPOSES


def purpose_permissions(*, purpose: str) -> list[Permission]:
    """The permissions a team of this purpose gets (those whose apps are installed)."""
    query = Q(pk__in=[])
    for label in PURPOSE_PERMISSIONS.get(purpose, ()):
        app_label, codename = label.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.using(PRIMARY).filter(query))


def team_apply_purpose(*, team: Team) -> None:
    """Give the team's group what its purpose needs; extra permissions admins added stay."""
    team.group.permissions.add(*purpose_permissions(purpose=team.purpose))
    if team.purpose in STAFF_PURPOSES:
        users_make_staff(user_ids=set(team.group.user_set.values_list("pk", flat=True)))


@transaction.atomic(using=PRIMARY)
def team_create(*, name: str, purpose: str, description: str = "") -> Team:
    """A new team: its group, and its purpose's permissions."""
    group = Group.objects.create(name=name)
    # Saving a team gives it its purpose's permissions (signals.py).
    return Team.objects.create(group=group, purpose=purpose, description=description)


def team_add_member(*, team: Team, user: User) -> None:
    """Put ``user`` in ``team`` (staff status follows from the team, see signals.py)."""
    user.groups.add(team.group)


def users_make_staff(*, user_ids: set[int]) -> None:
    """UX and ops work in the admin: their members need staff status to sign in there.

    Leaving a team does not take staff status away (the permissions go with the team, so
    what remains is an admin that shows nothing): an admin may have given it for another
    reason.
    """
    User.objects.filter(pk__in=user_ids, is_staff=False).update(is_staff=True)


def team_members_joined(*, user_ids: set[int], group_ids: set[int]) -> None:
    """Members who joined UX or ops teams get staff status."""
    staff_teams = Team.objects.filter(group_id__in=group_ids, purpose__in=STAFF_PURPOSES)
    if staff_teams.exists():
        users_make_staff(user_ids=user_ids)


def object_permissions_sweep_orphans(*, chunk: int = 1000) -> int:
    """Delete generic object grants whose object no longer exists; how many went.

    Grants in guardian's generic tables point at their object by id only (experiments live
    in another database), so nothing cascades when the object is deleted. Existence is read
    where the object is written, never on a replica that may not have it yet.
    """
    removed = 0
    for grant_model in (UserObjectPermission, GroupObjectPermission):
        grants = grant_model.objects.using(PRIMARY)
        for content_type_id in grants.values_list("content_type_id", flat=True).distinct():
            model = ContentType.objects.get_for_id(content_type_id).model_class()
            of_type = grants.filter(content_type_id=content_type_id)
            if model is None:  # the model itself is gone
                removed += of_type.delete()[0]
                continue
            objects = model._default_manager.db_manager(router.db_for_write(model))
            ids = sorted(set(of_type.values_list("object_pk", flat=True)))
            for start in range(0, len(ids), chunk):
                batch = ids[start : start + chunk]
                found = {
                    str(pk) for pk in objects.filter(pk__in=batch).values_list("pk", flat=True)
                }
                if gone := set(batch) - found:
                    removed += of_type.filter(object_pk__in=gone).delete()[0]
    return removed
