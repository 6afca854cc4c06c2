"""The UX team's workplace: experiments in the Django admin.

Every permission question goes to ``permissions``: UX members see every experiment, only the
owning team (and superusers) change one, start it, pause it, stop it or archive it; others
get a read-only page and their actions are refused. Once started, variants and weights are
shown but cannot be edited. Results are read from the stored analysis.
"""

from __future__ import annotations

import contextvars
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from pinstablr.db.config import PRIMARY

from .forms import ExperimentForm, ForcedVariantForm, VariantForm, VariantFormSet
from .models import Experiment, ExperimentResult, ForcedVariant, Variant
from .permissions import (
    can_add_experiment,
    can_change_experiment,
    can_view_experiment,
    may_see_experiments,
)
from .selectors import experiment_get_for_user, experiments_for_user, teams_for_new_experiment
from .services import TRANSITIONS, experiment_clone, experiment_grant_team, experiment_transition

# Group names for the list, read once per list page (groups live on ``default``).
_team_names: contextvars.ContextVar[dict[int, str] | None] = contextvars.ContextVar(
    "experiment_team_names", default=None
)


def team_name(team_id: int) -> str:
    names = _team_names.get()
    if names is None:
        group = Group.objects.using(PRIMARY).filter(pk=team_id).first()
        return group.name if group else f"team {team_id}"
    return names.get(team_id, f"team {team_id}")


class _ParentPermissions:
    """Inline rows follow the experiment's permissions, not model permissions of their own."""

    def has_view_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return obj is None or can_view_experiment(request.user, obj)

    def _may_edit(self, request: HttpRequest, obj: Experiment | None) -> bool:
        if obj is None:
            return can_add_experiment(request.user)
        return can_change_experiment(request.user, obj)


class VariantInline(_ParentPermissions, admin.TabularInline):
    model = Variant
    form = VariantForm
    formset = VariantFormSet
    min_num = 0

    def get_extra(self, request: HttpRequest, obj: Experiment | None = None, **kwargs: Any) -> int:
        return 2 if obj is None else 0

    # Locked once started: changing arms would move people between variants mid-experiment.
    def has_add_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return (obj is None or not obj.locked) and self._may_edit(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return (obj is None or not obj.locked) and self._may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return (obj is None or not obj.locked) and self._may_edit(request, obj)


class ForcedVariantInline(_ParentPermissions, admin.TabularInline):
    """QA overrides stay editable after the start: they are never counted in results."""

    model = ForcedVariant
    form = ForcedVariantForm
    extra = 0
    verbose_name = "QA override"
    verbose_name_plural = "QA overrides (these people always see the chosen variant)"

    def has_add_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return obj is not None and self._may_edit(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return obj is not None and self._may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return obj is not None and self._may_edit(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "variant":
            object_id = (
                request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            )
            kwargs["queryset"] = Variant.objects.filter(experiment_id=object_id or 0)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StatusFilter(admin.SimpleListFilter):
    """Archived experiments leave the everyday list; one click shows them."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("all", "All"), *Experiment.Status.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset.exclude(status=Experiment.Status.ARCHIVED)
        return queryset if value == "all" else queryset.filter(status=value)

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All but archived",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentForm
    inlines = [VariantInline, ForcedVariantInline]
    list_display = [
        "key",
        "name",
        "status_badge",
        "team",
        "traffic_percent",
        "primary_metric",
        "started_at",
        "results_link",
    ]
    list_filter = [StatusFilter, "audience", "primary_metric"]
    search_fields = ["key", "name", "hypothesis"]
    actions = ["start_selected", "pause_selected", "stop_selected", "archive_selected"]
    change_form_template = "admin/experiments/experiment/change_form.html"
    always_readonly = ["status", "started_at", "stopped_at", "layer_offset"]
    locked_readonly = ["key", "salt", "layer"]

    # --- permissions: from apps.experiments.permissions and .selectors ---------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Experiment]:
        return experiments_for_user(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_see_experiments(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        if obj is None:
            return may_see_experiments(request.user)
        return can_view_experiment(request.user, obj)

    def has_change_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        if obj is None:  # may change some: offer the actions, checked object by object
            return request.user.is_superuser or can_add_experiment(request.user)
        return can_change_experiment(request.user, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_add_experiment(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        # Experiments are archived, not deleted: their results stay readable.
        return request.user.is_superuser and (obj is None or obj.started_at is None)

    # --- form ---------------------------------------------------------------------------

    def get_inline_instances(self, request: HttpRequest, obj: Experiment | None = None) -> Any:
        # QA overrides pick one of the saved variants: only once the experiment exists.
        return [
            inline
            for inline in super().get_inline_instances(request, obj)
            if obj is not None or not isinstance(inline, ForcedVariantInline)
        ]

    def get_fieldsets(self, request: HttpRequest, obj: Experiment | None = None) -> Any:
        design = ["key", "name", "hypothesis", "owning_team" if obj is None else "team"]
        return [
            (None, {"fields": design}),
            (
                "Who is in it",
                {"fields": ["audience", "traffic_percent", "layer", "starts_at", "ends_at"]},
            ),
            (
                "Judged by",
                {"fields": ["primary_metric", "guardrail_metrics", "minimum_detectable_effect"]},
            ),
            ("State", {"fields": ["status", "started_at", "stopped_at", "salt", "layer_offset"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Experiment | None = None) -> Any:
        fields = [*self.always_readonly]
        if obj is not None:
            fields.append("team")
            if obj.locked:
                fields += self.locked_readonly
        return fields

    def get_form(
        self,
        request: HttpRequest,
        obj: Experiment | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and "owning_team" in form.base_fields:
            teams = teams_for_new_experiment(user=request.user)
            form.base_fields["owning_team"].queryset = teams  # type: ignore[attr-defined]
            form.base_fields["owning_team"].initial = teams.first()
        return form

    def save_model(self, request: HttpRequest, obj: Experiment, form: Any, change: bool) -> None:
        if not change:
            team = form.cleaned_data["owning_team"]
            if not teams_for_new_experiment(user=request.user).filter(pk=team.pk).exists():
                raise PermissionDenied
            obj.owning_team_id = team.pk
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)
        if not change:
            experiment_grant_team(experiment=obj)

    # --- list ---------------------------------------------------------------------------

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        token = _team_names.set(dict(Group.objects.using(PRIMARY).values_list("id", "name")))
        try:
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response
        finally:
            _team_names.reset(token)

    @admin.display(description="team")
    def team(self, obj: Experiment) -> str:
        return team_name(obj.owning_team_id)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Experiment) -> str:
        return format_html(
            '<span class="xp-status xp-{}">{}</span>', obj.status, obj.get_status_display()
        )

    @admin.display(description="results")
    def results_link(self, obj: Experiment) -> str:
        if obj.started_at is None:
            return "-"
        url = reverse("admin:experiments_experiment_results", args=[obj.pk])
        return format_html('<a href="{}">Results</a>', url)

    # --- actions with confirmation ------------------------------------------------------

    def _bulk_transition(self, request: HttpRequest, queryset: QuerySet, action: str) -> Any:
        transition = TRANSITIONS[action]
        experiments = list(queryset)
        refused = [e for e in experiments if not can_change_experiment(request.user, e)]
        if refused:
            self.message_user(
                request,
                "Refused: only the owning team can change "
                + ", ".join(e.key for e in refused)
                + ". Nothing was changed.",
                messages.ERROR,
            )
            return None
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/experiments/experiment/confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": f"{transition.label} {len(experiments)} experiment(s)?",
                    "transition": transition,
                    "experiments": experiments,
                    "bulk": True,
                    "action_name": f"{action}_selected",
                    "selected": [str(e.pk) for e in experiments],
                },
            )
        done = 0
        for experiment in experiments:
            try:
                experiment_transition(experiment=experiment, action=action, actor=request.user)
                self.log_change(request, experiment, transition.past.capitalize())
                done += 1
            except ValidationError as error:
                self.message_user(
                    request, f"{experiment.key}: {' '.join(error.messages)}", messages.ERROR
                )
        if done:
            self.message_user(request, f"{transition.past.capitalize()}: {done} experiment(s).")
        return None

    @admin.action(description="Start or resume the selected experiments")
    def start_selected(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._bulk_transition(request, queryset, "start")

    @admin.action(description="Pause the selected experiments")
    def pause_selected(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._bulk_transition(request, queryset, "pause")

    @admin.action(description="Stop the selected experiments")
    def stop_selected(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._bulk_transition(request, queryset, "stop")

    @admin.action(description="Archive the selected experiments")
    def archive_selected(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._bulk_transition(request, queryset, "archive")

    # --- pages of one experiment ----------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/results/",
                view(self.results_view),
                name="experiments_experiment_results",
            ),
            path(
                "<path:object_id>/transition/<slug:action>/",
                view(self.transition_view),
                name="experiments_experiment_transition",
            ),
            path(
                "<path:object_id>/clone/",
                view(self.clone_view),
                name="experiments_experiment_clone",
            ),
            *super().get_urls(),
        ]

    def _experiment(self, request: HttpRequest, object_id: str) -> Experiment:
        """The experiment if the user may see it: 403 without the UX view permission (as the
        admin's own pages answer), 404 for an id they may not see."""
        try:
            return experiment_get_for_user(user=request.user, experiment_id=unquote(object_id))
        except Http404:
            if not self.has_view_permission(request):
                raise PermissionDenied from None
            raise

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        experiment = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if experiment is not None:
            may_change = can_change_experiment(request.user, experiment)
            context["xp_actions"] = [
                t for t in TRANSITIONS.values() if may_change and experiment.status in t.sources
            ]
            context["xp_can_clone"] = can_add_experiment(request.user)
            context["xp_locked"] = experiment.locked
            owner = team_name(experiment.owning_team_id)
            context["xp_read_only_reason"] = (
                "" if may_change else f"Read only: this experiment belongs to {owner}."
            )
        return super().change_view(request, object_id, form_url, context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        # As the change page: staff without the UX view permission get 403, not a redirect.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    def transition_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        experiment = self._experiment(request, object_id)
        transition = TRANSITIONS.get(action)
        if transition is None:
            raise PermissionDenied
        if not can_change_experiment(request.user, experiment):
            raise PermissionDenied("Only the team that owns this experiment can change it.")
        change_url = reverse("admin:experiments_experiment_change", args=[experiment.pk])
        if request.method == "POST":
            try:
                experiment_transition(experiment=experiment, action=action, actor=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.log_change(request, experiment, transition.past.capitalize())
                self.message_user(request, f"{transition.past.capitalize()}: {experiment.key}.")
            return HttpResponseRedirect(change_url)
        return TemplateResponse(
            request,
            "admin/experiments/experiment/confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": experiment,
                "title": f"{transition.label} {experiment.key}?",
                "transition": transition,
                "experiments": [experiment],
                "bulk": False,
                "cancel_url": change_url,
            },
        )

    def clone_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        experiment = self._experiment(request, object_id)
        if not can_add_experiment(request.user) and not request.user.is_superuser:
            raise PermissionDenied
        if request.method == "POST":
            clone = experiment_clone(experiment=experiment, actor=request.user)
            self.log_addition(request, clone, f"Cloned from {experiment.key}")
            self.message_user(request, f"Cloned {experiment.key} as the draft {clone.key}.")
            return HttpResponseRedirect(
                reverse("admin:experiments_experiment_change", args=[clone.pk])
            )
        return TemplateResponse(
            request,
            "admin/experiments/experiment/confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": experiment,
                "title": f"Clone {experiment.key}?",
                "clone": True,
                "experiments": [experiment],
                "bulk": False,
                "cancel_url": reverse("admin:experiments_experiment_change", args=[experiment.pk]),
            },
        )

    def results_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        experiment = self._experiment(request, object_id)
        result = ExperimentResult.objects.filter(experiment=experiment).first()
        return TemplateResponse(
            request,
            "admin/experiments/experiment/results.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": experiment,
                "title": f"Results of {experiment.key}",
                "result": result,
                "data": result.data if result else None,
                "team": team_name(experiment.owning_team_id),
            },
        )
