from django.core.exceptions import ValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    """Stable pages while new rows arrive: a cursor, not an offset."""

    ordering = ("-created_at", "-id")
    page_size = 24
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        # A cursor is opaque but not signed: a forged one may hold a position that is not a
        # value of the ordering field. That is a bad link (404), not a server error.
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, ValidationError) as error:
            raise NotFound(self.invalid_cursor_message) from error


class HottestFirstCursorPagination(NewestFirstCursorPagination):
    ordering = ("-hot_score", "-id")


class OldestFirstCursorPagination(NewestFirstCursorPagination):
    ordering = ("created_at", "id")
