"""Reports in the API: the reports a user may read and, for one, its stored daily rows.

Permissions as everywhere (``permissions.py``, ``selectors.py``): the team's model-level
``view_report`` to reach the endpoints, an object grant per report. The list is filtered
through ``reports_for_user``, and so is a single report (404 for one the user may not read),
as on the dashboard page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.common.api_permissions import ObjectPermissionsWithView
from apps.common.pagination import NewestFirstCursorPagination

from .models import Report, ReportRow
from .selectors import (
    report_default_end,
    report_freshness,
    report_range_resolve,
    report_rows,
    reports_for_user,
)


class DayOrderPagination(NewestFirstCursorPagination):
    ordering = ("day", "id")


class ReportOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ["key", "name", "description"]


class ReportRowOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportRow
        fields = ["day", "dimension", "values"]


class RangeSerializer(serializers.Serializer):
    """A date range as the dashboard page takes it (``default_end`` in the context)."""

    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        try:
            start, end = report_range_resolve(
                start=data.get("start"),
                end=data.get("end"),
                default_end=self.context["default_end"],
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError({"start": error.messages}) from error
        return {"start": start, "end": end}


class ReportListApi(generics.ListAPIView):
    """The reports the signed-in user may read."""

    serializer_class = ReportOutputSerializer
    permission_classes = [ObjectPermissionsWithView]
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Report.objects.none()
        return reports_for_user(user=self.request.user)


class ReportDetailApi(generics.GenericAPIView):
    """One report's stored rows, a row per day (and per dimension), for a date range."""

    serializer_class = ReportRowOutputSerializer
    permission_classes = [ObjectPermissionsWithView]
    lookup_field = "key"
    pagination_class = DayOrderPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Report.objects.none()
        return reports_for_user(user=self.request.user)  # as the dashboard page finds it

    @extend_schema(
        parameters=[
            OpenApiParameter("start", dt.date, description="First day (default: end - 29)"),
            OpenApiParameter(
                "end", dt.date, description="Last day, included (default: the last with data)"
            ),
        ]
    )
    def get(self, request: Request, key: str) -> Response:
        report = self.get_object()  # checks view_report on this report: 404 without it
        freshness = report_freshness(report=report)
        window = RangeSerializer(
            data=request.query_params,
            context={"default_end": report_default_end(data_until=freshness.data_until)},
        )
        window.is_valid(raise_exception=True)
        rows = self.paginate_queryset(report_rows(report=report, **window.validated_data))
        response = self.get_paginated_response(self.get_serializer(rows, many=True).data)
        as_of = freshness.as_of
        response["X-Data-As-Of"] = as_of.isoformat() if as_of else ""
        return response
