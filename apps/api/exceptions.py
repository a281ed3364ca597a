"""One error shape for every API error: ``{"code", "message", "fields", "request_id"}``.

A dependency outage (apps.core.degradation.outage_of: PostgreSQL down or read-only, Redis, the broker) is 503
``service_unavailable`` with ``Retry-After``, never the 500 of a bug: a client can tell "retry later" from "quote
the request id"."""

from __future__ import annotations

import math
import sys
from typing import Any

import structlog
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from apps.core import context, degradation
from apps.core.errors import ApplicationError, ServiceUnavailable

log = structlog.get_logger(__name__)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}, "request_id": context.current_request_id()}


def _first_code(detail: Any, default: str) -> str:
    codes = detail if isinstance(detail, str) else None
    if isinstance(detail, exceptions.ErrorDetail):
        codes = detail.code
    return str(codes) if codes else default


def exception_handler(exc: Exception, ctx: dict[str, Any]) -> Response:
    headers: dict[str, str] = {}
    unavailable = service_unavailable_for(exc)
    if unavailable is not None:
        response = Response(
            error_body(unavailable.code, unavailable.message),
            status=unavailable.status,
            headers={"Retry-After": str(unavailable.retry_after)},
        )
        response._has_been_logged = True  # type: ignore[attr-defined]  # logged once per interval, not per request
        return response
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, RequestDataTooBig):  # Django refuses to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(error_body("request_too_large", TOO_LARGE), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, BadRequest | SuspiciousOperation):
        return Response(error_body("bad_request", str(exc) or "Bad request."), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        return Response(
            error_body("invalid", "The request has invalid fields.", _plain(fields)),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, exceptions.APIException):
        wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
        if wait is not None:
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            request = ctx.get("request")
            view = ctx.get("view")
            auth_header = view.get_authenticate_header(request) if view is not None and request is not None else None
            if auth_header:
                headers["WWW-Authenticate"] = auth_header
            else:
                exc.status_code = status.HTTP_403_FORBIDDEN
        code = _first_code(exc.detail, exc.default_code)
        return Response(error_body(code, str(exc.detail)), status=exc.status_code, headers=headers)

    log.exception("api_unhandled_exception", exc_info=exc)
    return Response(
        error_body("server_error", "An unexpected error occurred. Quote the request id to support."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def service_unavailable_for(exc: BaseException | None) -> ServiceUnavailable | None:
    """The 503 an exception stands for (a ServiceUnavailable, or a dependency's outage), logged once here; else None."""
    if isinstance(exc, ServiceUnavailable):
        return exc
    dependency = degradation.outage_of(exc)
    if dependency is None:
        return None
    degradation.record_unavailable(dependency, exc)  # type: ignore[arg-type]  # not None: it has a dependency
    return ServiceUnavailable(
        f"The {_NAMES[dependency]} is unavailable; retry after the number of seconds in Retry-After.",
        dependency=dependency,
        retry_after=degradation.retry_after_seconds(dependency),
    )


_NAMES = {"database": "database", "redis": "cache", "broker": "task broker"}


def _plain(value: Any) -> Any:
    """ErrorDetail lists and dicts as plain JSON (messages only)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)


TOO_LARGE = "The request body is larger than this API accepts."


# Django-level handlers for paths under /api/ that never reach a DRF view (unknown routes, crashes).
def json_bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(error_body("request_too_large", TOO_LARGE), status=413)
    fields = getattr(exception, "fields", None)  # apps.core.middleware.InvalidQuery names its parameters
    if fields:
        return JsonResponse(error_body("invalid", str(exception), fields), status=400)
    return JsonResponse(error_body("bad_request", str(exception) or "Bad request."), status=400)


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", f"No API endpoint at {request.path}."), status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    unavailable = service_unavailable_for(sys.exc_info()[1])  # Django calls handler500 inside its except block
    if unavailable is not None:
        response = JsonResponse(error_body(unavailable.code, unavailable.message), status=unavailable.status)
        response["Retry-After"] = str(unavailable.retry_after)
        response._has_been_logged = True  # type: ignore[attr-defined]  # django.request: once per interval instead
        return response
    return JsonResponse(
        error_body("server_error", "An unexpected error occurred. Quote the request id to support."), status=500
    )
