"""The dashboard page and the API take a date range by one rule: the same longest range and
the same default last day (the day before the newest computed window's end)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm

from apps.reports.apis import RangeSerializer
from apps.reports.forms import ExportRangeForm, RangeForm
from apps.reports.models import ReportRow, ReportRun
from apps.reports.selectors import MAX_RANGE_DAYS, report_default_end
from tests.factories import api_client, team, team_member

from .factories import ReportFactory

END = dt.date(2026, 3, 1)


def _form(**query: str) -> tuple[dt.date, dt.date] | None:
    form = RangeForm(query, default_end=END)
    return (form.cleaned_data["start"], form.cleaned_data["end"]) if form.is_valid() else None


def _api(**query: str) -> tuple[dt.date, dt.date] | None:
    serializer = RangeSerializer(data=query, context={"default_end": END})
    if not serializer.is_valid():
        return None
    return serializer.validated_data["start"], serializer.validated_data["end"]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"end": "2026-02-10"},
        {"start": "2026-02-01"},
        {
            "start": (END - dt.timedelta(days=MAX_RANGE_DAYS - 1)).isoformat(),
            "end": END.isoformat(),
        },
        {"start": (END - dt.timedelta(days=MAX_RANGE_DAYS)).isoformat(), "end": END.isoformat()},
        {"start": "2026-03-02", "end": "2026-03-01"},
    ],
)
def test_the_form_and_the_api_agree_on_every_range(query):
    assert _form(**query) == _api(**query)


def test_the_longest_range_is_max_range_days_both_days_included():
    longest = (END - dt.timedelta(days=MAX_RANGE_DAYS - 1)).isoformat()
    one_more = (END - dt.timedelta(days=MAX_RANGE_DAYS)).isoformat()
    assert _api(start=longest) == (dt.date.fromisoformat(longest), END)
    assert _api(start=one_more) is None
    assert _form() == (END - dt.timedelta(days=29), END)
    export = ExportRangeForm({"start": "2020-01-01"}, default_end=END)
    assert export.is_valid()  # an export streams any range


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_api_defaults_to_the_pages_last_day():
    report = ReportFactory(key="signups")
    assign_perm("reports.view_report", team("marketing").group, report)
    run = ReportRun.objects.create(
        report=report,
        window_start=dt.date(2026, 1, 1),
        window_end=dt.date(2026, 2, 20),  # exclusive: data until the 19th
        status=ReportRun.Status.SUCCEEDED,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    for day in (dt.date(2026, 1, 20), dt.date(2026, 1, 21), dt.date(2026, 2, 19)):
        ReportRow.objects.create(report=report, run=run, day=day, values={"n": 1})
    default_end = report_default_end(data_until=dt.date(2026, 2, 20))
    assert default_end == dt.date(2026, 2, 19)
    response = api_client(team_member("marketing")).get("/api/v1/reports/signups/")
    assert response.status_code == 200
    # the page's default range: the 30 days up to the last day with data
    days = sorted(row["day"] for row in response.json()["results"])
    assert days == ["2026-01-21", "2026-02-19"]
    assert RangeForm({}, default_end=default_end).is_valid()
