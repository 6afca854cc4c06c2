"""Teams: purposes give permissions, membership gives staff status where the work is in the
admin, and admins manage members in the admin with an autocomplete picker."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from apps.teams.models import Team
from apps.teams.purposes import PURPOSE_PERMISSIONS
from apps.teams.services import team_create
from tests.factories import UserFactory, team_member

pytestmark = pytest.mark.django_db


def labels(group: Group) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


@pytest.mark.parametrize("name", ["marketing", "ux", "ops"])
def test_migrations_create_the_three_teams_with_their_purposes_permissions(name):
    team = Team.objects.select_related("group").get(group__name=name)
    assert team.purpose == name
    assert labels(team.group) == set(PURPOSE_PERMISSIONS[name])


def test_a_new_team_gets_its_purposes_permissions_and_keeps_extra_ones():
    team = team_create(name="ux-growth", purpose="ux", description="Growth experiments")
    assert labels(team.group) == set(PURPOSE_PERMISSIONS["ux"])
    extra = Group.objects.get(name="ops").permissions.get(codename="view_operations")
    team.group.permissions.add(extra)
    team.save()  # saving re-applies the purpose without dropping what admins added
    assert labels(team.group) == {*PURPOSE_PERMISSIONS["ux"], "teams.view_operations"}


@pytest.mark.parametrize(("name", "staff"), [("ux", True), ("ops", True), ("marketing", False)])
def test_joining_a_team_whose_work_is_in_the_admin_makes_a_user_staff(name, staff):
    member = team_member(name)
    assert member.is_staff is staff
    assert member.has_perm(PURPOSE_PERMISSIONS[name][0])
    assert not UserFactory().has_perm(PURPOSE_PERMISSIONS[name][0])


def test_adding_members_from_the_group_side_makes_them_staff_too():
    users = UserFactory.create_batch(2)
    Group.objects.get(name="ops").user_set.add(*users)
    assert all(
        user.is_staff for user in type(users[0]).objects.filter(pk__in=[u.pk for u in users])
    )


def test_admins_pick_members_with_autocomplete_and_see_each_teams_purpose(admin_client):
    group = Group.objects.get(name="ux")
    page = admin_client.get(f"/admin/auth/group/{group.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="admin-autocomplete"' in html
    assert 'data-field-name="user"' in html
    assert 'name="team-0-purpose"' in html
    listing = admin_client.get("/admin/auth/group/").content.decode()
    assert "UX: experiments" in listing
    assert "Marketing: reports" in listing


def test_an_admin_adds_a_member_through_the_admin_and_it_is_audited(admin_client, admin_user):
    from apps.audit.models import AuditEntry

    group = Group.objects.get(name="ux")
    newcomer = UserFactory()
    page = admin_client.get(f"/admin/auth/group/{group.pk}/change/")
    data = form_data(page)
    prefix = next(name for name in data if name.endswith("-TOTAL_FORMS") and "user" in name.lower())
    prefix = prefix.removesuffix("-TOTAL_FORMS")
    data[f"{prefix}-TOTAL_FORMS"] = "1"
    data[f"{prefix}-0-user"] = str(newcomer.pk)
    response = admin_client.post(f"/admin/auth/group/{group.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    newcomer.refresh_from_db()
    assert newcomer.groups.filter(name="ux").exists()
    assert newcomer.is_staff
    entry = AuditEntry.objects.get(action="join", target_id=str(group.pk))
    assert entry.actor == admin_user
    assert entry.detail == {"user": newcomer.username}


def form_data(page) -> dict[str, str]:
    """The POST data of an admin change form as rendered (fields and inline management)."""
    data: dict[str, str] = {"name": page.context["original"].name}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for field in management:
            data[field.html_name] = str(field.value())
        for form in formset.formset.forms:
            for field in form:
                value = field.value()
                if value is not None and not isinstance(value, list):
                    data[field.html_name] = str(value)
    data["permissions"] = [str(p.pk) for p in page.context["original"].permissions.all()]  # type: ignore[assignment]
    return data


def test_the_sweep_removes_grants_whose_object_is_gone_and_keeps_the_others(
    django_assert_max_num_queries,
):
    from guardian.models import GroupObjectPermission
    from guardian.shortcuts import assign_perm

    from apps.audit.models import AuditEntry
    from apps.teams.services import object_permissions_sweep_orphans
    from tests.factories import PhotoFactory

    ops = Group.objects.get(name="ops")
    kept, *deleted = PhotoFactory.create_batch(30)
    for photo in (kept, *deleted):
        assign_perm("photos.change_photo", ops, photo)
    gone_ids = [str(photo.pk) for photo in deleted]
    for photo in deleted:
        photo.delete()
    assert GroupObjectPermission.objects.count() == 30  # nothing cascaded
    with django_assert_max_num_queries(12 + 6 * len(deleted)):  # each deletion is audited
        assert object_permissions_sweep_orphans(chunk=10) == 29
    assert list(GroupObjectPermission.objects.values_list("object_pk", flat=True)) == [str(kept.pk)]
    revoked = AuditEntry.objects.filter(action="revoke").values_list("target_id", flat=True)
    assert sorted(revoked) == sorted(gone_ids)
