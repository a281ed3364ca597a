from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import BadRequest, ValidationError
from django.http import Http404, HttpRequest, HttpResponse

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


class HostileUrlMiddleware:
    """Turns URLs that no view can answer into a 4xx before a view turns them into a 500.

    - A NUL character in the path (``/players/a%00/``): PostgreSQL text cannot hold one, so a lookup would fail
      with a database error. Nothing is there: 404.
    - A NUL in the query string (``?actor=%00``): 400 on the API, naming the parameter; 404 on staff pages.
    - An admin object id its model's primary key cannot parse (``/admin/players/player/abc/change/``): 404, for
      every model admin at once (the custom 360 and decision pages look the object up themselves).
    Two substring tests per request; the admin check only runs on admin object views.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            raise Http404("No such page.")
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:  # cheap test first; "%2500" is a literal "%00", not a NUL
            names = sorted({name for name, values in request.GET.lists() if _has_nul(name, values)})
            if names and request.path.startswith("/api/"):
                raise InvalidQuery({name or "query": ["Null characters are not allowed."] for name in names})
            if names:
                raise Http404("No such page.")
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        model_admin = getattr(view, "model_admin", None)
        object_id = kwargs.get("object_id")
        if model_admin is not None and object_id is not None:
            from django.contrib.admin.utils import unquote

            try:
                model_admin.model._meta.pk.to_python(unquote(object_id))
            except ValidationError as exc:
                raise Http404("No such object.") from exc
        return None


def _has_nul(name: str, values: list[str]) -> bool:
    return "\x00" in name or any("\x00" in value for value in values)


class InvalidQuery(BadRequest):
    """A query string no view should see; ``fields`` names the parameters (the API's 400 shows them)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("The query string is not valid.")
        self.fields = fields
