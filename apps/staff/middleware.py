from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.urls import reverse

from apps.core.net import client_ip, ip_in_networks
from apps.staff import otp


class StaffNetworkAllowListMiddleware:
    """With ``STAFF_ALLOWED_NETWORKS`` set, the admin answers 403 to every address outside those networks."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        networks = settings.STAFF_ALLOWED_NETWORKS
        if (
            networks
            and request.path.startswith(settings.STAFF_ADMIN_PATH_PREFIX)
            and not ip_in_networks(client_ip(request), networks)
        ):
            return HttpResponseForbidden("The backoffice is not reachable from this network.")
        return self.get_response(request)


class StaffEnrolmentMiddleware:
    """A signed-in staff member without a confirmed device sees only the enrolment page (and logout)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.path.startswith(settings.STAFF_ADMIN_PATH_PREFIX)
            and not user.is_verified()
        ):
            allowed = {reverse("admin:staff_enrol"), reverse("admin:logout")}
            if request.path not in allowed and not otp.has_confirmed_device(user):
                return HttpResponseRedirect(reverse("admin:staff_enrol"))
        return self.get_response(request)
