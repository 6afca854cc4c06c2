from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    """Stable pages while new rows arrive: a cursor, not an offset."""

    ordering = ("-created_at", "-id")
    page_size = 24
    page_size_query_param = "page_size"
    max_page_size = 100


class HottestFirstCursorPagination(NewestFirstCursorPagination):
    ordering = ("-hot_score", "-id")


class OldestFirstCursorPagination(NewestFirstCursorPagination):
    ordering = ("created_at", "id")
