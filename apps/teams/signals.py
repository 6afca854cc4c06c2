"""Keep a team's group in line with its purpose, and its members' staff status."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.db.models.signals import m2m_changed, post_save

from apps.accounts.models import User

from .models import Team
from .services import team_apply_purpose, team_members_joined


def _team_saved(sender: type[Model], instance: Team, **kwargs: Any) -> None:
    team_apply_purpose(team=instance)


def _members_added(
    sender: type[Model], instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kw
) -> None:
    if action != "post_add" or not pk_set:
        return
    if reverse:  # group.user_set.add(...)
        team_members_joined(user_ids=set(pk_set), group_ids={instance.pk})
    else:
        team_members_joined(user_ids={instance.pk}, group_ids=set(pk_set))


post_save.connect(_team_saved, sender=Team)
m2m_changed.connect(_members_added, sender=User.groups.through)
