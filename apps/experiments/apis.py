"""The JS client's view of experiments: its assignments, and conversion events.

Pages that signed-out visitors get from the shared cache cannot carry a variant, so the
browser asks here; the answer is private to the visitor and never cached on the way.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .assignment import conversion_record, variant_for
from .metrics import METRICS
from .models import KEY_PATTERN, Experiment
from .snapshot import live_experiments

MAX_KEYS = 20


class AssignmentSerializer(serializers.Serializer):
    variant = serializers.CharField()
    config = serializers.DictField()
    in_experiment = serializers.BooleanField()
    forced = serializers.BooleanField()


class AssignmentsOutputSerializer(serializers.Serializer):
    assignments = serializers.DictField(child=AssignmentSerializer())


def _private(response: Response) -> Response:
    response["Cache-Control"] = "private, no-store"
    return response


class AssignmentsApi(APIView):
    """Variants for this visitor (signed in, or by the anonymous unit cookie).

    ``?keys=a,b`` asks for the experiments the page is about to show, and logs those
    exposures. Without ``keys`` every running experiment is listed and nothing is logged.
    """

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "keys", str, description="Comma-separated experiment keys the page will show."
            )
        ],
        responses={200: AssignmentsOutputSerializer},
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("keys", "")
        keys = [key.strip() for key in raw.split(",") if key.strip()]
        if len(keys) > MAX_KEYS:
            raise ValidationError({"keys": [f"Ask for at most {MAX_KEYS} experiments at once."]})
        for key in keys:
            if len(key) > 80 or not KEY_PATTERN.match(key):
                raise ValidationError({"keys": [f"{key[:80]!r} is not an experiment key."]})
        expose = bool(keys)
        if not keys:
            keys = [
                key
                for key, spec in live_experiments().items()
                if spec.status == Experiment.Status.RUNNING
            ]
        assignments: dict[str, Any] = {}
        for key in dict.fromkeys(keys):
            assignment = variant_for(request, key, expose=expose)
            assignments[key] = {
                "variant": assignment.variant,
                "config": assignment.config,
                "in_experiment": assignment.in_experiment,
                "forced": assignment.forced,
            }
        return _private(Response({"assignments": assignments}))


class EventInputSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(
        choices=sorted(key for key, metric in METRICS.items() if metric.client_recordable)
    )
    value = serializers.FloatField(required=False, default=1.0, min_value=0, max_value=1000)


class EventOutputSerializer(serializers.Serializer):
    recorded = serializers.BooleanField()


class EventsApi(APIView):
    """A conversion event of this visitor (counted only if they were exposed before)."""

    permission_classes = [AllowAny]

    @extend_schema(request=EventInputSerializer, responses={202: EventOutputSerializer})
    def post(self, request: Request) -> Response:
        data = EventInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recorded = conversion_record(
            request, data.validated_data["metric"], value=data.validated_data["value"]
        )
        return _private(Response({"recorded": recorded}, status=status.HTTP_202_ACCEPTED))
