"""Admin forms: the experiment with its owning team and metrics, and its variants."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from apps.accounts.models import User

from .metrics import metric_choices
from .models import Experiment, ForcedVariant, Variant
from .services import experiment_validate_traffic, variants_validate


class ExperimentForm(forms.ModelForm):
    # Chosen among the creator's teams on creation only (see ExperimentAdmin.get_form).
    owning_team = forms.ModelChoiceField(
        queryset=Group.objects.none(),
        required=False,
        help_text="The team that will own it: only its members can change it.",
    )
    guardrail_metrics = forms.MultipleChoiceField(
        choices=metric_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Metrics that must not get worse (checked with the same tests).",
    )

    class Meta:
        model = Experiment
        fields = [
            "key",
            "name",
            "hypothesis",
            "audience",
            "traffic_percent",
            "layer",
            "starts_at",
            "ends_at",
            "primary_metric",
            "guardrail_metrics",
            "minimum_detectable_effect",
            "salt",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        creating = "owning_team" in self.fields and self.instance.pk is None
        if creating and cleaned.get("owning_team") is None:
            self.add_error("owning_team", "Choose the team that owns this experiment.")
        traffic = cleaned.get("traffic_percent")
        if self.instance.pk is not None and traffic is not None:
            candidate = copy.copy(self.instance)
            candidate.traffic_percent = traffic
            try:
                experiment_validate_traffic(experiment=candidate)
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


class VariantFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.instance.locked:
            return
        variants_validate(
            [
                {**form.cleaned_data, "DELETE": bool(form.cleaned_data.get("DELETE"))}
                for form in self.forms
                if form.cleaned_data
            ]
        )


class VariantForm(forms.ModelForm):
    class Meta:
        model = Variant
        fields = ["key", "name", "weight", "is_control", "config"]


class ForcedVariantForm(forms.ModelForm):
    """QA override by user name (users live on ``default``; the row keeps only the id)."""

    username = forms.CharField(max_length=150, help_text="Who always sees the chosen variant.")

    class Meta:
        model = ForcedVariant
        fields = ["username", "variant", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.user_id:
            user = User.objects.filter(pk=self.instance.user_id).first()
            self.fields["username"].initial = user.username if user else self.instance.user_id

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise ValidationError(f"There is no user {username!r}.")
        self.instance.user_id = user.pk
        return username
