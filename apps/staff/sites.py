"""The one admin site: django-otp's (every page needs an OTP-verified session) themed by unfold.

Its start page is the signed-in member's dashboard panels (apps.core.dashboard: figures the apps above register),
their work (apps.core.workqueues), a player search and the screens they may open; its menu is in the operator's
words (apps/staff/menu.py).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django_otp.admin import OTPAdminSite
from unfold.sites import UnfoldAdminSite

from apps.staff import menu
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

    # --- the menu in the operator's words -------------------------------------------------------------------
    def _build_app_dict(self, request: HttpRequest, label: str | None = None) -> dict[str, Any]:
        """Django's apps and permitted models, each screen renamed and each app named for its heading; the System
        heading's apps left out for anyone but an Administrator. Unfold's menu search reads this too."""
        app_dict = super()._build_app_dict(request, label)
        if label is not None:
            return menu.rename(app_dict) if app_dict else app_dict
        administrator = menu.is_administrator(request.user)
        renamed = {}
        for app_label, app in app_dict.items():
            heading = next((menu.heading_of(m["model"]._meta.label) for m in app["models"]), None)
            if heading is not None and heading.administrators_only and not administrator:
                continue
            renamed[app_label] = menu.rename(app)
        return renamed

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        if app_label is not None:
            return super().get_app_list(request, app_label)
        # built once per request: the menu (each_context) and the start page's "Your screens" read the same list
        built = getattr(request, "_pitboss_app_list", None)
        if built is None:
            built = menu.regroup(list(self._build_app_dict(request).values()), request.user)
            request._pitboss_app_list = built  # type: ignore[attr-defined]
        return built

    # --- the start page ------------------------------------------------------------------------------------
    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from apps.core.dashboard import panels_for
        from apps.core.workqueues import work_for

        work = work_for(request.user)
        sections: dict[str, list[Any]] = {}
        for item in work:
            sections.setdefault(item.queue.section or "Work", []).append(item)
        context = {
            "title": "Start",
            "work_sections": list(sections.items()),
            "work_waiting": sum(1 for item in work if item.waiting),
            "has_queues": bool(work),
            "dashboard_panels": panels_for(request, work),  # after the queues: a panel may read their counts
            "player_search_url": _player_search_url(request),
            "roles": menu.roles_of(request.user),
            **(extra_context or {}),
        }
        return super().index(request, context)

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


PLAYER_LIST = "players.Player"  # the model whose list is the one search of players (named, not imported: layers)


def _player_search_url(request: HttpRequest) -> str | None:
    """The player list (its search is the one search of players) if this member may open it."""
    from django.contrib import admin

    model_admin = next((ma for m, ma in admin.site._registry.items() if m._meta.label == PLAYER_LIST), None)
    if model_admin is None or not model_admin.has_view_permission(request):
        return None
    return reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist")
