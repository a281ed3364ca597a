"""OpenAPI documentation helpers: the auth scheme and the shared error responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[misc]
    target_class = "apps.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; the key is printed once by `manage.py create_api_client`.",
        }


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable error code.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    fields = serializers.DictField(help_text="Per-field messages for invalid input.")  # type: ignore[assignment]
    request_id = serializers.CharField(help_text="Quote this to support; also in the X-Request-ID header.")


# Codes every authenticated endpoint can answer with.
COMMON_ERRORS: dict[int, tuple[str, ...]] = {
    401: ("not_authenticated", "authentication_failed", "invalid_api_key"),
    403: ("missing_scope", "ip_not_allowed"),
    429: ("throttled",),
}


def error_responses(extra: Mapping[int, tuple[str, ...]] | None = None) -> dict[int, OpenApiResponse]:
    """``@extend_schema(responses={200: ..., **error_responses({404: ("player_not_found",)})})``."""
    merged: dict[int, tuple[str, ...]] = {**COMMON_ERRORS}
    for status_code, codes in (extra or {}).items():
        merged[status_code] = tuple(dict.fromkeys(merged.get(status_code, ()) + codes))
    return {
        status_code: OpenApiResponse(ErrorSerializer, description="Error codes: " + ", ".join(f"`{c}`" for c in codes))
        for status_code, codes in sorted(merged.items())
    }
