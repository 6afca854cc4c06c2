"""Photo processing: how long from upload to ready, for the photos that became ready each day."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber
from django.db.models.lookups import GreaterThanOrEqual

from apps.photos.models import Photo
from pinstablr.db.config import REPORTING

from .base import (
    Column,
    Grain,
    Layout,
    ReportDefinition,
    ResultRow,
    register,
    seconds,
    start_of,
)
from .base import Window as DataWindow

PERCENTILES = (50, 95)


def _ready_on(day: dt.date) -> QuerySet[Photo]:
    """The day's newly ready photos with their latency, rank by latency, and how many."""
    return (
        Photo.objects.using(REPORTING)
        .filter(
            status=Photo.Status.READY,
            processed_at__gte=start_of(day),
            processed_at__lt=start_of(day) + dt.timedelta(days=1),
        )
        .annotate(
            latency=ExpressionWrapper(
                F("processed_at") - F("created_at"), output_field=DurationField()
            ),
            rank=Window(RowNumber(), order_by=[F("latency").asc(), F("id").asc()]),
            total=Window(Count("id")),
        )
    )


def compute_processing_latency(window: DataWindow) -> list[ResultRow]:
    rows = []
    for day in window.days:
        # One pass: the database ranks the day's photos by latency, then the aggregate picks
        # each percentile by nearest rank (the smallest latency whose rank is at least p% of
        # the count; integer arithmetic, so no rounding surprises).
        percentiles = {
            f"p{p}": Min("latency", filter=GreaterThanOrEqual(F("rank") * 100, F("total") * p))
            for p in PERCENTILES
        }
        summary = _ready_on(day).aggregate(
            ready=Count("id"), mean=Avg("latency"), worst=Max("latency"), **percentiles
        )
        values: dict[str, float | int | None] = {
            "ready": summary["ready"],
            **{f"p{p}_seconds": seconds(summary[f"p{p}"]) for p in PERCENTILES},
            "avg_seconds": seconds(summary["mean"]),
            "max_seconds": seconds(summary["worst"]),
        }
        rows.append(ResultRow(day, values))
    return rows


PROCESSING_LATENCY = register(
    ReportDefinition(
        key="processing_latency",
        name="Photo processing latency",
        description=(
            "Seconds from upload to ready for the photos whose processing finished each UTC "
            "day: median (p50), p95 (nearest rank), mean and worst. A photo reprocessed by a "
            "newer pipeline counts on the day of its last processing."
        ),
        grain=Grain.DAY,
        layout=Layout.SERIES,
        columns=(
            Column("ready", "Photos ready"),
            Column("p50_seconds", "p50", "seconds"),
            Column("p95_seconds", "p95", "seconds"),
            Column("avg_seconds", "Mean", "seconds"),
            Column("max_seconds", "Worst", "seconds"),
        ),
        compute=compute_processing_latency,
        chart_series=("p50_seconds", "p95_seconds"),
    )
)
