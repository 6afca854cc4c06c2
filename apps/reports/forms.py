"""Forms of the reports pages: validation at the edge, so services get clean values."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib.auth.models import Group

from apps.accounts.models import User

from .models import SavedQuery
from .selectors import report_range_resolve


class DateInput(forms.DateInput):
    input_type = "date"


class RangeForm(forms.Form):
    """A dashboard's date range (both days included, UTC) and leaderboard period."""

    start = forms.DateField(label="From", widget=DateInput, required=False)
    end = forms.DateField(label="To", widget=DateInput, required=False)
    period = forms.TypedChoiceField(
        label="Leaderboard over",
        choices=[(1, "the day"), (7, "7 days"), (30, "30 days")],
        coerce=int,
        required=False,
        empty_value=None,
    )

    def __init__(self, *args: Any, default_end: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_end = default_end

    limited = True

    def clean(self) -> dict[str, Any]:
        data = forms.Form.clean(self) or {}
        start, end = report_range_resolve(
            start=data.get("start"),
            end=data.get("end"),
            default_end=self.default_end,
            limited=self.limited,
        )  # a ValidationError becomes the form's error
        data.update(start=start, end=end, period=data.get("period") or 7)
        return data


class ExportRangeForm(RangeForm):
    """An export may cover any range: it is streamed, never cut."""

    limited = False


class ConsoleForm(forms.Form):
    target = forms.ChoiceField(label="Database")
    sql = forms.CharField(
        label="SQL (one SELECT)",
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "sql"}),
        max_length=20000,
    )
    title = forms.CharField(label="Title (to save the query)", max_length=200, required=False)
    description = forms.CharField(
        label="Description", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["target"]).choices = targets


class SavedQueryForm(forms.ModelForm):
    class Meta:
        model = SavedQuery
        fields = ["title", "description", "sql"]
        widgets = {"sql": forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "sql"})}


class ShareForm(forms.Form):
    """Share with one of the owner's groups, or with one person by user name."""

    group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, label="Group")
    username = forms.CharField(required=False, label="Or a person (user name)", max_length=150)
    with_sql = forms.BooleanField(required=False, label="They may also see the SQL")

    def __init__(self, *args: Any, owner: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["group"]).queryset = owner.groups.order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        group, username = data.get("group"), (data.get("username") or "").strip()
        if bool(group) == bool(username):
            raise forms.ValidationError("Choose a group or enter a user name (one of them).")
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise forms.ValidationError(f"Nobody is called {username!r}.")
            data["user"] = user
        return data
