"""Reports in the admin: grants per report and per saved query (guardian), runs, the run log.

Lists show only what the viewer may see (``permissions.py``); schedules are django-celery-beat's
own admin ("Periodic tasks"), where each report has an entry named ``report: <key>``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from guardian.admin import GuardedModelAdmin

from .definitions import REGISTRY
from .models import QueryRun, Report, ReportRun, SavedQuery
from .permissions import can_view_sql
from .selectors import reports_for_user, saved_queries_for_user
from .tasks import run_report_window


@admin.register(Report)
class ReportAdmin(GuardedModelAdmin):
    list_display = ["name", "key", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["key", "name"]
    readonly_fields = ["key", "created_at", "updated_at"]
    actions = ["recompute_last_30_days"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        if not self.has_view_or_change_permission(request):
            return super().get_queryset(request)  # the admin answers 403 before any object
        return reports_for_user(user=request.user)

    @admin.action(description="Recompute the last 30 days (on the reports queue)")
    def recompute_last_30_days(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        today = timezone.now().date()
        count = 0
        for report in queryset:
            definition = REGISTRY.get(report.key)
            if definition is None:
                continue
            day = today - dt.timedelta(days=30)
            while day < today:
                window = definition.window_for(day)
                run_report_window.delay(report.pk, window.start.isoformat(), window.end.isoformat())
                count += 1
                day = window.end
        self.message_user(request, f"{count} windows queued.", messages.SUCCESS)


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = [
        "report", "window_start", "window_end", "status", "trigger", "duration_ms",
        "row_count", "attempts", "finished_at",
    ]  # fmt: skip
    list_filter = ["status", "trigger", "report"]
    date_hierarchy = "window_start"
    list_select_related = ["report"]
    readonly_fields = [field.name for field in ReportRun._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportRun]:
        if not self.has_view_or_change_permission(request):
            return super().get_queryset(request)
        visible = reports_for_user(user=request.user)
        return super().get_queryset(request).filter(report__in=visible.values("pk"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SavedQuery)
class SavedQueryAdmin(GuardedModelAdmin):
    list_display = ["title", "owner", "target", "updated_at"]
    list_filter = ["target"]
    search_fields = ["title", "description", "owner__username"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SavedQuery]:
        if not self.has_view_or_change_permission(request):
            return super().get_queryset(request)
        return saved_queries_for_user(user=request.user).select_related("owner")

    def get_exclude(self, request: HttpRequest, obj: SavedQuery | None = None) -> Any:
        # A query shared without its SQL stays so for staff too (owners always see theirs).
        if obj is not None and not can_view_sql(request.user, obj):
            return ["sql"]
        return super().get_exclude(request, obj)


def _may_see_run_sql(request: HttpRequest, run: QueryRun) -> bool:
    """A run's SQL is the saved query's: shown to whoever may see that query's SQL."""
    return run.saved_query is None or can_view_sql(request.user, run.saved_query)


@admin.register(QueryRun)
class QueryRunAdmin(admin.ModelAdmin):
    """The console's log: who ran what, where, how long, how many rows, what went wrong."""

    list_display = ["started_at", "user", "target", "status", "duration_ms", "row_count"]
    list_filter = ["status", "target"]
    # Not the SQL: a search would tell what a saved query shared without its SQL contains.
    search_fields = ["user__username", "error"]
    date_hierarchy = "started_at"
    list_select_related = ["user"]
    readonly_fields = [field.name for field in QueryRun._meta.fields]

    def get_fields(self, request: HttpRequest, obj: QueryRun | None = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if obj is not None and not _may_see_run_sql(request, obj):
            fields.remove("sql")
        return fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
