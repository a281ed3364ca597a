"""OpenAPI documentation helpers: the auth scheme and the shared error responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
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
    503: ("service_unavailable",),
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


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]{1,128}$"},
    OpenApiParameter.HEADER,
    required=True,
    description="A unique value per operation (a UUID): a replay returns the first answer, without a second effect.",
)

# What the plumbing can answer on any operation, whatever its view says (see the hook below).
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_GENERIC: dict[str, tuple[str, ...]] = {
    "401": ("not_authenticated", "authentication_failed", "invalid_api_key"),
    "403": ("missing_scope", "ip_not_allowed"),
    "406": ("not_acceptable",),
    "429": ("throttled",),
    "503": ("service_unavailable",),  # PostgreSQL, Redis or the broker down (apps.core.degradation)
}
_WITH_BODY = {"400": ("parse_error",), "413": ("request_too_large",), "415": ("unsupported_media_type",)}
_WITH_QUERY = {"400": ("invalid",)}  # a NUL in any query parameter (apps.core.middleware)
_WITH_PATH = {"404": ("not_found",)}  # a NUL in a path segment


def add_plumbing_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation documents the errors the plumbing can give it
    (authentication, throttles, the parser, the hostile-URL guard, a dependency outage), in the one error shape."""
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            extra: dict[str, tuple[str, ...]] = dict(_GENERIC)
            parameters = operation.get("parameters", [])
            if "requestBody" in operation or method in ("post", "put", "patch"):
                extra = _merge(extra, _WITH_BODY)
            if any(p.get("in") == "query" for p in parameters):
                extra = _merge(extra, _WITH_QUERY)
            if "{" in path:
                extra = _merge(extra, _WITH_PATH)
            responses = operation.setdefault("responses", {})
            for status_code, codes in extra.items():
                response = responses.get(status_code)
                if response is None:
                    responses[status_code] = {
                        "description": "Error codes: " + ", ".join(f"`{c}`" for c in codes),
                        "content": {"application/json": {"schema": _ERROR_REF}},
                    }
                else:
                    missing = [c for c in codes if f"`{c}`" not in response.get("description", "")]
                    if missing:
                        response["description"] = (
                            response.get("description", "") + ", " + ", ".join(f"`{c}`" for c in missing)
                        ).lstrip(", ")
            for status_code, response in responses.items():
                headers = response.setdefault("headers", {})
                headers.setdefault("X-Request-ID", _REQUEST_ID_HEADER)
                if status_code in ("429", "503"):
                    headers.setdefault("Retry-After", _RETRY_AFTER_HEADER)
            operation["responses"] = dict(sorted(responses.items()))
    return result


_REQUEST_ID_HEADER = {
    "schema": {"type": "string"},
    "required": True,
    "description": "This request's id (yours, if you sent a plain X-Request-ID of up to 128 characters)",
}
_RETRY_AFTER_HEADER = {"schema": {"type": "integer", "minimum": 1}, "required": True, "description": "Seconds to wait"}


def _merge(a: Mapping[str, tuple[str, ...]], b: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    merged = dict(a)
    for key, codes in b.items():
        merged[key] = tuple(dict.fromkeys(merged.get(key, ()) + codes))
    return merged
