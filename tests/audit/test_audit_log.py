"""Every grant, revoke and membership change lands in the audit log, with who made it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from guardian.shortcuts import assign_perm, remove_perm

from apps.audit.models import AuditEntry
from tests.factories import PhotoFactory, UserFactory, team_member

pytestmark = pytest.mark.django_db


def entries(**filters) -> list[tuple[str, str, dict]]:
    return [
        (e.action, e.target_repr, e.detail)
        for e in AuditEntry.objects.filter(**filters).order_by("id")
    ]


def test_object_grants_and_revokes_name_the_permission_the_grantee_and_the_object():
    photo, user, group = PhotoFactory(), UserFactory(), Group.objects.get(name="ops")
    assign_perm("photos.change_photo", group, photo)
    assign_perm("photos.change_photo", user, photo)
    remove_perm("photos.change_photo", group, photo)

    def detail(to: str) -> dict[str, str]:
        return {"permission": "photos.change_photo", "to": to, "scope": "object"}

    assert entries(target_type="photos.photo", target_id=str(photo.pk)) == [
        ("grant", str(photo), detail("team ops")),
        ("grant", str(photo), detail(f"user {user}")),
        ("revoke", str(photo), detail("team ops")),
    ]


def test_model_level_grants_to_a_team_or_a_user_are_recorded():
    group, user = Group.objects.get(name="marketing"), UserFactory()
    permission = Permission.objects.get(codename="moderate_photo")
    group.permissions.add(permission)
    user.user_permissions.add(permission)
    permission.group_set.remove(group)
    assert entries(target_type="auth.group") == [
        ("grant", "marketing", {"permissions": ["photos.moderate_photo"], "scope": "model"}),
        ("revoke", "marketing", {"permissions": ["photos.moderate_photo"], "scope": "model"}),
    ]
    assert entries(target_type="accounts.user") == [
        ("grant", str(user), {"permissions": ["photos.moderate_photo"], "scope": "model"}),
    ]


def test_joining_and_leaving_from_either_side_and_clearing_are_recorded():
    member = team_member("ux")
    other = UserFactory()
    ux = Group.objects.get(name="ux")
    ux.user_set.add(other)
    member.groups.remove(ux)
    other.groups.clear()
    assert entries(target_type="auth.group", target_id=str(ux.pk)) == [
        ("join", "ux", {"user": member.username}),
        ("join", "ux", {"user": other.username}),
        ("leave", "ux", {"user": member.username}),
        ("leave", "ux", {"user": other.username}),
    ]


def test_changes_made_while_serving_a_request_name_the_signed_in_user(client):
    moderator = team_member("ops")
    photo = PhotoFactory()
    client.force_login(moderator)
    response = client.post(f"/p/{photo.pk}/moderate/", {"reason": "Spam"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="hide")
    assert (entry.actor, entry.actor_name, entry.target_id) == (
        moderator,
        moderator.username,
        str(photo.pk),
    )
    assert entry.detail == {"reason": "Spam"}


def test_ops_read_the_log_in_the_admin_and_nobody_can_edit_it(client, admin_client):
    PhotoFactory()
    assign_perm("photos.change_photo", Group.objects.get(name="ops"), PhotoFactory())
    client.force_login(team_member("ops"))
    listing = client.get("/admin/audit/auditentry/")
    assert listing.status_code == 200
    assert "photos.change_photo" in listing.content.decode()
    entry = AuditEntry.objects.first()
    for who in (client, admin_client):
        assert who.get("/admin/audit/auditentry/add/").status_code == 403
        assert (
            who.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
