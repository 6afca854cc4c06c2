"""Teams in the admin: a team is a group with a purpose, its members picked by autocomplete."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group

from apps.accounts.models import User

from .models import Team


class TeamInline(admin.StackedInline):
    model = Team
    can_delete = False
    fields = ["purpose", "description"]
    verbose_name = "team"
    verbose_name_plural = "team"


class MembershipInline(admin.TabularInline):
    model = User.groups.through
    extra = 0
    autocomplete_fields = ["user"]
    verbose_name = "member"
    verbose_name_plural = "members"


admin.site.unregister(Group)


@admin.register(Group)
class TeamGroupAdmin(GroupAdmin):
    list_display = ["name", "purpose", "member_count"]
    inlines = [TeamInline, MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("team").prefetch_related("user_set")

    @admin.display(description="purpose")
    def purpose(self, group: Group) -> str:
        team = getattr(group, "team", None)
        return team.get_purpose_display() if team else "-"

    @admin.display(description="members")
    def member_count(self, group: Group) -> int:
        return len(group.user_set.all())
