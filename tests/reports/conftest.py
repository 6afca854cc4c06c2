"""Roles for the reports tests, built from plain groups and permissions as teams grant them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, Permission

from apps.accounts.models import User
from tests.factories import UserFactory

MARKETING = (
    "reports.view_report",
    "reports.view_savedquery",
    "reports.add_savedquery",
    "reports.use_query_console",
)


def group_with(name: str, perms: tuple[str, ...]) -> Group:
    """The group ``name`` holding ``perms`` (``app.codename``), as a team's purpose gives."""
    group, _ = Group.objects.get_or_create(name=name)
    for perm in perms:
        app_label, codename = perm.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


@pytest.fixture
def team_member() -> Callable[..., User]:
    """``team_member("marketing")``: a new user in that group, with marketing's permissions
    unless ``perms`` says otherwise."""

    def make(group: str = "marketing", perms: tuple[str, ...] = MARKETING, **kwargs) -> User:
        user = UserFactory(**kwargs)
        user.groups.add(group_with(group, perms))
        return User.objects.get(pk=user.pk)  # no cached permissions

    return make
