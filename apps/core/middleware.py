from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.core import context
from apps.core.net import client_ip

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Gives every request an id (the caller's ``X-Request-ID`` when it is safe), returned in the response.

    It runs before django-structlog's middleware, which reads the same header, so logs carry the same id.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = context.new_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.META["HTTP_X_REQUEST_ID"] = request_id
        request.__dict__.pop("headers", None)  # drop a cached copy of the headers that lacks the new id
        request.request_id = request_id  # type: ignore[attr-defined]
        with context.bound(request_id=request_id, client_ip=client_ip(request)):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response
