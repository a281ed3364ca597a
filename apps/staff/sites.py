"""The one admin site: django-otp's (every page needs an OTP-verified session) themed by unfold."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django_otp.admin import OTPAdminSite
from unfold.sites import UnfoldAdminSite

from apps.staff.forms import StaffLoginForm


class StaffSite(OTPAdminSite, UnfoldAdminSite):  # type: ignore[misc]
    site_header = "Pitboss"
    site_title = "Pitboss backoffice"
    index_title = "Backoffice"
    login_form = StaffLoginForm
    login_template = "admin/login.html"  # ours: unfold's layout plus the one-time code field

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self.login_form = StaffLoginForm

    def extra_urls(self) -> list[URLPattern]:
        from apps.staff import views

        return [
            path("enrol/", views.enrol, {"site": self}, name="staff_enrol"),
        ]

    def password_change(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from django.db import transaction

        from apps.staff.services import staff_password_changed

        with transaction.atomic():
            response = super().password_change(request, extra_context)
            if request.method == "POST" and response.status_code == 302:
                staff_password_changed(actor=request.user, user=request.user)  # type: ignore[arg-type]
        return response

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        was_authenticated = request.user.is_authenticated
        response = super().login(request, extra_context)
        if request.method == "POST" and request.user.is_authenticated and not was_authenticated:
            from apps.staff.services import staff_logged_in

            # django-otp's login hook sets otp_device on the user when the code was verified
            staff_logged_in(user=request.user, verified=getattr(request.user, "otp_device", None) is not None)
        return response
