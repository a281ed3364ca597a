"""Two lanes through one middleware stack: the platform's JSON API, and everything a browser uses.

The platform API (``API_PREFIX``) authenticates every request with an API key and answers JSON; it has no
session, cookie, CSRF token, staff login, OTP device, flash message, login lockout, frame or content policy.
The middleware that serves those still costs CPU on every API request (about 0.6 ms of 4 ms on a bet,
docs/PERFORMANCE.md), so in ``MIDDLEWARE`` each of them is wrapped by ``browser_only``: on an API path the
wrapper hands the request straight on, elsewhere it is the middleware itself, hooks included. Request ids, logs,
metrics and the security headers stay on both lanes, and so do three cheap ones that checks look for by name:
CSRF (the API's views are exempt anyway), X-Frame-Options and django-axes (it acts on login attempts only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

API_PREFIX = "/api/v1/"
_HOOKS = ("process_view", "process_exception", "process_template_response")


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def browser_only(dotted: str) -> type:
    """A middleware class that runs ``dotted`` except on the platform API's paths."""
    inner_class = import_string(dotted)

    def __init__(self: Any, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.inner = inner_class(get_response)

    def __call__(self: Any, request: HttpRequest) -> HttpResponse:
        return self.get_response(request) if is_api(request) else self.inner(request)

    namespace: dict[str, Any] = {
        "__init__": __init__,
        "__call__": __call__,
        "__doc__": f"{dotted}, not on the API",
        "sync_capable": True,
        "async_capable": False,
    }
    for hook in _HOOKS:
        if hasattr(inner_class, hook):
            namespace[hook] = _skip_on_api(hook)
    if not isinstance(inner_class, type):  # a function-based middleware
        return type(f"BrowserOnly{inner_class.__name__}", (), namespace)
    # a subclass, so that checks looking for the middleware (e.g. the admin's) still find it
    return type(inner_class)(f"BrowserOnly{inner_class.__name__}", (inner_class,), namespace)


def _skip_on_api(hook: str) -> Callable[..., Any]:
    def call(self: Any, request: HttpRequest, *args: Any) -> Any:
        return None if is_api(request) else getattr(self.inner, hook)(request, *args)

    return call


SecurityPolicies = browser_only("csp.middleware.CSPMiddleware")
PermissionsPolicy = browser_only("django_permissions_policy.PermissionsPolicyMiddleware")
StaticFiles = browser_only("whitenoise.middleware.WhiteNoiseMiddleware")
Sessions = browser_only("django.contrib.sessions.middleware.SessionMiddleware")
Authentication = browser_only("django.contrib.auth.middleware.AuthenticationMiddleware")
Otp = browser_only("django_otp.middleware.OTPMiddleware")
StaffNetworks = browser_only("apps.staff.middleware.StaffNetworkAllowListMiddleware")
StaffEnrolment = browser_only("apps.staff.middleware.StaffEnrolmentMiddleware")
Messages = browser_only("django.contrib.messages.middleware.MessageMiddleware")
HistoryUser = browser_only("simple_history.middleware.HistoryRequestMiddleware")
