"""The first page of a list, rendered on the server, and where the JS client continues."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

from .pagination import NewestFirstCursorPagination

PAGE_SIZE = 24


@dataclass
class FirstPage:
    items: list[Any]
    next_api_url: str  # the API URL of the next page ("" when there is none)


def first_page(
    queryset: QuerySet,
    request: HttpRequest,
    api_path: str,
    *,
    pagination: type[CursorPagination] = NewestFirstCursorPagination,
    filters: dict[str, str] | None = None,
) -> FirstPage:
    """Page one of ``queryset``, with the API URL (same filters) that serves page two."""
    paginator = pagination()
    paginator.page_size = PAGE_SIZE
    items = list(paginator.paginate_queryset(queryset, Request(request)) or [])
    next_link = paginator.get_next_link()
    if not next_link:
        return FirstPage(items, "")
    cursor = parse_qs(urlsplit(next_link).query).get(paginator.cursor_query_param, [""])[0]
    query = {**(filters or {}), paginator.cursor_query_param: cursor}
    return FirstPage(items, f"{api_path}?{urlencode(query)}")
