"""Every change of who may do what lands in the audit log, however it was made.

Grants made with guardian (``assign_perm``/``remove_perm``, the admin's object permission
pages), team membership changed from either side (the admin's inline included), and
model-level permissions given to a team or a user. Bulk operations that bypass signals
(guardian's ``bulk_assign_perm`` for querysets) are not seen; Pinstablr does not use them.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import router
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_save, pre_delete

from apps.accounts.models import User

from .services import Target, audit_record


def _grantee(instance: Any) -> str:
    if hasattr(instance, "group_id"):
        return f"team {instance.group}"
    return f"user {instance.user}"


def _object_target(instance: Any) -> Target:
    """The object a guardian permission row is about, even while it is being deleted.

    Read from the database its model is written to: guardian's generic ``content_object``
    would look on ``default``, where experiments are not.
    """
    content_type = instance.permission.content_type
    object_pk = getattr(instance, "object_pk", None)
    if object_pk is None:  # direct foreign-key model
        object_pk = instance.content_object_id
    model = content_type.model_class()
    found = None
    if model is not None:
        found = (
            model._default_manager.db_manager(router.db_for_write(model))
            .filter(pk=object_pk)
            .first()
        )
    name = str(found) if found is not None else f"{content_type.model} {object_pk} (deleted)"
    return Target(f"{content_type.app_label}.{content_type.model}", str(object_pk), name)


def _object_permission_saved(sender: type[Model], instance: Any, created: bool, **kw: Any) -> None:
    if created:
        _object_permission_changed("grant", instance)


def _object_permission_deleted(sender: type[Model], instance: Any, **kw: Any) -> None:
    _object_permission_changed("revoke", instance)


def _object_permission_changed(action: str, instance: Any) -> None:
    permission = instance.permission
    audit_record(
        action=action,
        target=_object_target(instance),
        detail={
            "permission": f"{permission.content_type.app_label}.{permission.codename}",
            "to": _grantee(instance),
            "scope": "object",
        },
    )


def _labels(permission_ids: set[int]) -> list[str]:
    return sorted(
        f"{app}.{codename}"
        for app, codename in Permission.objects.filter(pk__in=permission_ids).values_list(
            "content_type__app_label", "codename"
        )
    )


def _model_permissions_changed(
    sender: type[Model], instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kw
) -> None:
    """Model-level permissions of a team (group) or a user."""
    if action not in ("post_add", "post_remove") or not pk_set:
        return
    verb = "grant" if action == "post_add" else "revoke"
    holder_model = Group if sender is Group.permissions.through else User
    if not reverse:
        holders, labels = [instance], _labels(pk_set)
    else:  # permission.group_set.add(...) / permission.user_set.add(...)
        holders = list(holder_model._default_manager.filter(pk__in=pk_set))
        labels = _labels({instance.pk})
    for holder in holders:
        audit_record(action=verb, target=holder, detail={"permissions": labels, "scope": "model"})


def _record_membership(action: str, user_ids: set[int], group_ids: set[int]) -> None:
    users = {user.pk: user.get_username() for user in User.objects.filter(pk__in=user_ids)}
    for group in Group.objects.filter(pk__in=group_ids):
        for user_id in sorted(user_ids):
            audit_record(action=action, target=group, detail={"user": users.get(user_id, "")})


def _membership_changed(
    sender: type[Model], instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kw
) -> None:
    if action == "pre_clear":
        # The rows are about to go without their ids being sent: note them now.
        related = instance.user_set if reverse else instance.groups
        instance._audit_cleared = set(related.values_list("pk", flat=True))
        return
    if action == "post_clear":
        action, pk_set = "post_remove", getattr(instance, "_audit_cleared", set())
    if action not in ("post_add", "post_remove") or not pk_set:
        return
    verb = "join" if action == "post_add" else "leave"
    if reverse:
        _record_membership(verb, set(pk_set), {instance.pk})
    else:
        _record_membership(verb, {instance.pk}, set(pk_set))


def connect() -> None:
    from guardian.models import BaseObjectPermission

    for model in apps.get_models():
        if issubclass(model, BaseObjectPermission):
            post_save.connect(_object_permission_saved, sender=model, weak=False)
            # Before the row goes, while the object it names can still be read.
            pre_delete.connect(_object_permission_deleted, sender=model, weak=False)
    m2m_changed.connect(_model_permissions_changed, sender=Group.permissions.through)
    m2m_changed.connect(_model_permissions_changed, sender=User.user_permissions.through)
    m2m_changed.connect(_membership_changed, sender=User.groups.through)
