"""OpenAPI: every operation documents the error envelope for the 4xx any request can get."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()

    def get_fields(self) -> dict[str, serializers.Field]:
        # "fields" would shadow Serializer.fields as a class attribute.
        fields = super().get_fields()
        fields["fields"] = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        )
        return fields


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# Any endpoint can answer these: a malformed query or body (400), a bad token even on a
# public endpoint (401), a failed CSRF or object check (403), an unknown object or forged
# cursor (404), the throttle (429).
COMMON_ERRORS = {
    "400": "The request is malformed or does not validate.",
    "401": "Credentials are missing or wrong.",
    "403": "Not allowed.",
    "404": "No such object (or not visible to you).",
    "429": "Too many requests; retry later.",
}


class PinstablrAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, description in COMMON_ERRORS.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = description
                responses[code] = response
        return responses
