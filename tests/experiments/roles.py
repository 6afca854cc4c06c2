"""Team members built from plain groups and permissions, as the teams feature grants them."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from tests.factories import UserFactory

UX_PERMISSIONS = ("view_experiment", "add_experiment", "use_analysis_console")


def ux_team(name: str = "ux") -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="experiments", codename__in=UX_PERMISSIONS
        )
    )
    return group


def member(group: Group, **fields):
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(group)
    return user


def ops_member():
    """Staff, but in a team with nothing to do with experiments."""
    group, _ = Group.objects.get_or_create(name="ops")
    return member(group)
