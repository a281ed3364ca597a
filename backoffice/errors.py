"""Django-level error pages: JSON under /api/, the usual HTML elsewhere."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.utils.html import escape
from django.views import defaults

from apps.api.exceptions import json_bad_request, json_not_found, json_server_error, service_unavailable_for


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_bad_request(request, exception)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_server_error(request)
    unavailable = service_unavailable_for(sys.exc_info()[1])  # a dependency's outage: 503, not a bug's 500
    if unavailable is not None:
        response = HttpResponse(
            "<!doctype html><title>Service unavailable</title><h1>Service unavailable</h1>"
            f"<p>{escape(unavailable.message)}</p>",
            status=unavailable.status,
        )
        response["Retry-After"] = str(unavailable.retry_after)
        response._has_been_logged = True  # type: ignore[attr-defined]  # django.request: once per interval instead
        return response
    return defaults.server_error(request)
