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

    def save_formset(self, request, form, formset, change) -> None:
        """Membership rows go through ``user_set`` so that joining and leaving are audited
        and give staff status: Django sends no save signals for the rows of a many-to-many
        table."""
        if formset.model is not User.groups.through:
            super().save_formset(request, form, formset, change)
            return
        group = form.instance
        for row in formset.forms:
            if not row.has_changed() and row not in formset.deleted_forms:
                continue
            if previous := row.initial.get("user"):
                group.user_set.remove(previous)
            if row not in formset.deleted_forms and row.cleaned_data.get("user"):
                group.user_set.add(row.cleaned_data["user"])
        # What the admin's change message reads after a save.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.display(description="purpose")
    def purpose(self, group: Group) -> str:
        team = getattr(group, "team", None)
        return team.get_purpose_display() if team else "-"

    @admin.display(description="members")
    def member_count(self, group: Group) -> int:
        return len(group.user_set.all())
