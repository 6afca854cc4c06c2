"""Reports pages for marketing: dashboards, CSV exports, the query console, saved queries.

Permissions come from ``permissions.py`` and the ``*_for_user`` selectors only: 404 for a
report or query the user may not see, 403 for an action on a visible one (or a section the
user has no part in).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import User

from .definitions import REGISTRY
from .forms import ConsoleForm, ExportRangeForm, RangeForm, SavedQueryForm, ShareForm
from .models import QueryRun
from .permissions import (
    can_edit_saved_query,
    can_manage_saved_query,
    can_save_queries,
    can_view_sql,
    may_see_reports,
    may_see_saved_queries,
)
from .selectors import (
    console_targets_for_user,
    query_runs_for,
    report_dashboard,
    report_default_end,
    report_export_rows,
    report_freshness,
    report_freshness_map,
    report_get_for_user,
    reports_for_user,
    saved_queries_for_user,
    saved_query_get_for_user,
)
from .services.console import ConsoleOutcome, console_run, console_targets
from .services.queries import (
    saved_query_create,
    saved_query_delete,
    saved_query_share,
    saved_query_shares,
    saved_query_unshare,
    saved_query_update,
)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _require_section(user: User) -> None:
    if not (may_see_reports(user) or console_targets_for_user(user=user)):
        raise PermissionDenied("Reports are for the teams that use them.")


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Every report the user may see, with how current its data is."""
    user = _user(request)
    _require_section(user)
    reports = list(reports_for_user(user=user))
    freshness = report_freshness_map(reports=reports)
    return render(
        request,
        "reports/index.html",
        {
            "title": "Reports",
            "reports": [(report, freshness[report.pk]) for report in reports],
            "console_targets": console_targets_for_user(user=user),
            "may_see_queries": may_see_saved_queries(user),
        },
    )


@login_required
@require_GET
def dashboard(request: HttpRequest, key: str) -> HttpResponse:
    """One report as a chart and a table over a date range, with how current it is."""
    report = report_get_for_user(user=_user(request), key=key)
    freshness = report_freshness(report=report)
    form = RangeForm(request.GET, default_end=report_default_end(data_until=freshness.data_until))
    context: dict[str, Any] = {"title": report.name, "report": report, "form": form}
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        board = report_dashboard(
            report=report, start=data["start"], end=data["end"], period=data["period"]
        )
        context.update(
            board=board,
            start=data["start"],
            end=data["end"],
            export_query=f"start={data['start'].isoformat()}&end={data['end'].isoformat()}",
        )
    else:
        status = 400
    context["freshness"] = freshness
    return render(request, "reports/dashboard.html", context, status=status)


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def export_csv(request: HttpRequest, key: str) -> HttpResponse | StreamingHttpResponse:
    """Every stored row of the range as CSV, streamed: complete however long, never cut.

    ``X-Row-Count`` announces the number of data rows, so a client can check it got them all;
    an error mid-way aborts the transfer instead of ending the file early.
    """
    report = report_get_for_user(user=_user(request), key=key)
    freshness = report_freshness(report=report)
    form = ExportRangeForm(
        request.GET, default_end=report_default_end(data_until=freshness.data_until)
    )
    if not form.is_valid():
        return HttpResponse(
            "; ".join(str(e) for e in form.non_field_errors()) or "Invalid range.", status=400,
            content_type="text/plain; charset=utf-8",
        )  # fmt: skip
    data = form.cleaned_data
    count, rows = report_export_rows(report=report, start=data["start"], end=data["end"])
    header = ["day", "dimension", *(c.key for c in REGISTRY[report.key].columns)]
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    filename = f"{report.key}_{data['start'].isoformat()}_{data['end'].isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Row-Count"] = str(count)
    response["Cache-Control"] = "private, no-store"
    return response


def console_status(outcome: ConsoleOutcome) -> int:
    """400 for a statement the console would not run or the database rejected, else 200: the
    page shows the reason either way, and the run is logged either way."""
    failed = outcome.status in (QueryRun.Status.REFUSED, QueryRun.Status.ERROR)
    return 400 if failed else 200


def _console_choices(user: User) -> list[tuple[str, str]]:
    labels = console_targets()
    return [(target, labels[target]) for target in console_targets_for_user(user=user)]


@login_required
@require_http_methods(["GET", "POST"])
def console(request: HttpRequest) -> HttpResponse:
    """Write a SELECT, run it on a read-only copy, see at most the row limit; save it."""
    user = _user(request)
    choices = _console_choices(user)
    if not choices:
        raise PermissionDenied("The query console is for the teams granted it.")
    form = ConsoleForm(request.POST or None, targets=choices)
    outcome = None
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        elif request.POST.get("action") == "save":
            if not can_save_queries(user):
                raise PermissionDenied("You may not save queries.")
            try:
                query = saved_query_create(
                    owner=user,
                    title=form.cleaned_data["title"],
                    sql=form.cleaned_data["sql"],
                    target=form.cleaned_data["target"],
                    description=form.cleaned_data["description"],
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
                status = 400
            else:
                messages.success(request, f"Saved “{query.title}”.")
                return redirect("reports:saved-query", query_id=query.pk)
        else:
            outcome = console_run(
                user=user, target=form.cleaned_data["target"], sql=form.cleaned_data["sql"]
            )
            status = console_status(outcome)
    return render(
        request,
        "reports/console.html",
        {"title": "Query console", "form": form, "outcome": outcome,
         "can_save": can_save_queries(user)},
        status=status,
    )  # fmt: skip


@login_required
@require_GET
def saved_queries(request: HttpRequest) -> HttpResponse:
    """Saved queries the user owns or that were shared with them."""
    user = _user(request)
    if not may_see_saved_queries(user):
        raise PermissionDenied("Saved queries are for the teams that use them.")
    queries = saved_queries_for_user(user=user).select_related("owner")
    return render(
        request, "reports/saved_queries.html", {"title": "Saved queries", "queries": queries}
    )


@login_required
@require_http_methods(["GET", "POST"])
def saved_query(request: HttpRequest, query_id: int) -> HttpResponse:
    """A saved query: its description, its SQL when the user may see it, and its results
    (POST runs it: runs cost the replica, so a page view never does)."""
    user = _user(request)
    query = saved_query_get_for_user(user=user, query_id=query_id)
    outcome = None
    if request.method == "POST":
        outcome = console_run(user=user, target=query.target, sql=query.sql, saved_query=query)
    return render(
        request,
        "reports/saved_query.html",
        {
            "title": query.title,
            "query": query,
            "outcome": outcome,
            "show_sql": can_view_sql(user, query),
            "can_edit": can_edit_saved_query(user, query),
            "can_manage": can_manage_saved_query(user, query),
            "runs": query_runs_for(query=query) if can_manage_saved_query(user, query) else [],
        },
        status=console_status(outcome) if outcome else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def saved_query_edit(request: HttpRequest, query_id: int) -> HttpResponse:
    user = _user(request)
    query = saved_query_get_for_user(user=user, query_id=query_id)
    if not can_edit_saved_query(user, query):
        raise PermissionDenied("Only the owner changes this query.")
    form = SavedQueryForm(request.POST or None, instance=query)
    if request.method == "POST" and form.is_valid():
        try:
            saved_query_update(
                query=query,
                title=form.cleaned_data["title"],
                sql=form.cleaned_data["sql"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Saved.")
            return redirect("reports:saved-query", query_id=query.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "reports/saved_query_edit.html",
        {"title": f"Edit {query.title}", "query": query, "form": form}, status=status,
    )  # fmt: skip


@login_required
@require_POST
def saved_query_remove(request: HttpRequest, query_id: int) -> HttpResponse:
    user = _user(request)
    query = saved_query_get_for_user(user=user, query_id=query_id)
    if not can_manage_saved_query(user, query):
        raise PermissionDenied("Only the owner deletes this query.")
    saved_query_delete(query=query)
    messages.success(request, f"Deleted “{query.title}”.")
    return redirect("reports:saved-queries")


@login_required
@require_http_methods(["GET", "POST"])
def saved_query_sharing(request: HttpRequest, query_id: int) -> HttpResponse:
    """Who sees the query's results (and SQL): share with a group or a person, or take back."""
    user = _user(request)
    query = saved_query_get_for_user(user=user, query_id=query_id)
    if not can_manage_saved_query(user, query):
        raise PermissionDenied("Only the owner shares this query.")
    form = ShareForm(None, owner=query.owner)
    status = 200
    if request.method == "POST":
        if "revoke_group" in request.POST or "revoke_user" in request.POST:
            shares = saved_query_shares(query=query)
            group = next(
                (g for g, _ in shares.groups if str(g.pk) == request.POST.get("revoke_group")),
                None,
            )
            person = next(
                (u for u, _ in shares.users if str(u.pk) == request.POST.get("revoke_user")),
                None,
            )
            if group is not None or person is not None:
                saved_query_unshare(query=query, group=group, user=person)
                messages.success(request, "No longer shared with them.")
            return redirect("reports:saved-query-share", query_id=query.pk)
        form = ShareForm(request.POST, owner=query.owner)
        if form.is_valid():
            try:
                saved_query_share(
                    query=query,
                    group=form.cleaned_data.get("group"),
                    user=form.cleaned_data.get("user"),
                    with_sql=form.cleaned_data["with_sql"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Shared.")
                return redirect("reports:saved-query-share", query_id=query.pk)
        status = 400
    return render(
        request,
        "reports/saved_query_share.html",
        {"title": f"Share {query.title}", "query": query, "form": form,
         "shares": saved_query_shares(query=query)},
        status=status,
    )  # fmt: skip
