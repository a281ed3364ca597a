"""Django-level error pages: JSON under /api/; elsewhere 403, 404 and 500 in the admin's layout (the menu for a
signed-in, verified staff member, the login page's layout for anyone else) with a link back to the start page.
If that page cannot be built (the database is what failed, say), Django's plain page is served instead."""

from __future__ import annotations

import logging
import sys

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import escape
from django.views import defaults

from apps.api.exceptions import json_bad_request, json_not_found, json_server_error, service_unavailable_for

log = logging.getLogger(__name__)

PAGES = {
    403: ("You may not open this page", "Your role does not include it. If your work needs it, ask an Administrator."),
    404: ("Page not found", "The address may be mistyped, or what it pointed to is no longer here."),
    500: ("Something went wrong", "The error was logged. Try again; if it happens again, quote the reference below."),
}


def admin_error_page(request: HttpRequest, status: int) -> HttpResponse | None:
    """The styled page, or None when it cannot be rendered (the caller serves Django's plain one)."""
    from django.contrib import admin

    from apps.core import context as request_context

    title, message = PAGES[status]
    try:
        site = admin.site
        staff = site.has_permission(request)  # active staff with a verified second factor
        context = {
            **site.each_context(request),
            "status": status,
            "title": title,
            "message": message,
            "start_url": reverse("admin:index"),
            "back_label": "Back to the start page" if staff else "Sign in",
            "request_id": request_context.current_request_id() if status == 500 else None,
        }
        template = "admin/errors/page.html" if staff else "admin/errors/public.html"
        response = TemplateResponse(request, template, context, status=status)
        response.render()
        return response
    except Exception:  # an error page must not fail: Django's plain page then
        log.exception("error page %s could not be rendered", status)
        return None


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return admin_error_page(request, 404) or defaults.page_not_found(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django admin's PermissionDenied and any other view's (the API answers its own 403s in JSON)."""
    if request.path.startswith("/api/"):
        return defaults.permission_denied(request, exception)
    return admin_error_page(request, 403) or defaults.permission_denied(request, exception)


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
    return admin_error_page(request, 500) or defaults.server_error(request)
