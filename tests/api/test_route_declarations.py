"""Every URL says what it requires. A new admin page or API route without a declaration fails here, by name.

- A model admin's standard pages (changelist, add, change, delete, history) require the model permission its
  ``has_*_permission`` checks: each is refused to staff with no role and, unless the admin never allows it, granted
  to staff holding every permission. An admin that lets a role-less member through must be declared below.
- Custom admin views (a ``get_urls`` addition) and the admin site's own pages are declared in ``ADMIN_DECLARED``.
- API routes under ``/api/v1/`` require the scopes their view's ``required_scopes`` names for every method it
  serves (``HasScopes`` refuses the rest); a route that needs no scope at all is declared in ``ANY_CLIENT``.
- Every other route is declared in ``OTHER_ROUTES``.
No browser and no HTTP: the URL resolver and the admins' own permission methods, under a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, path
from rest_framework.views import APIView

from apps.api.permissions import HasScopes, required_scopes_for
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
STANDARD = ("changelist", "add", "change", "delete", "history")
# What each standard page asks the admin (Django's own checks).
PAGE_CHECKS = {
    "changelist": ("view_or_change",),
    "add": ("add",),
    "change": ("view_or_change",),
    "delete": ("delete",),
    "history": ("view_or_change",),
}

# The admin site's pages and the model admins' custom views: URL name -> what it requires.
ADMIN_DECLARED: dict[str, str] = {
    # the site
    "admin:index": "a signed-in, 2FA-verified staff member; shows only the models they may see",
    "admin:login": "public: the login form (password + one-time code)",
    "admin:logout": "a signed-in staff member",
    "admin:password_change": "a signed-in, 2FA-verified staff member (their own password)",
    "admin:password_change_done": "a signed-in, 2FA-verified staff member",
    "admin:staff_enrol": "a signed-in staff member without a device (2FA enrolment)",
    "admin:autocomplete": "the view permission of the model behind the autocompleted field (Django checks it)",
    "admin:jsi18n": "a signed-in, 2FA-verified staff member (translations only)",
    "admin:view_on_site": "a signed-in, 2FA-verified staff member (redirect to the object's own URL)",
    "admin:app_list": "the module permission of the app",
    "admin:search": "a signed-in, 2FA-verified staff member; results only from models they may view",
    "admin:<catch-all>": "none: the 404 of the admin site",
    # custom views
    "admin:otp_totp_totpdevice_qrcode": "otp_totp.view_totpdevice or change_totpdevice (has_view_or_change_permission)",
    "admin:otp_totp_totpdevice_config": "otp_totp.view_totpdevice or change_totpdevice (has_view_or_change_permission)",
    "admin:geo_jurisdiction_simple_history": "geo.view_jurisdiction or change_jurisdiction (simple-history's check)",
    "admin:geo_rulepack_simple_history": "geo.view_rulepack or change_rulepack (simple-history's check)",
    "admin:geo_ipoverride_simple_history": "geo.view_ipoverride or change_ipoverride (simple-history's check)",
    "admin:auth_user_password_change": "staff.change_staffuser (Django's UserAdmin)",
    "admin:players_player_status": "players.change_player_status (+ authority act_<authority> in the service)",
    "admin:players_player_block": "players.change_player_blocks (+ authority act_<authority> in the service)",
    "admin:players_player_note": "players.add_playernote",
    "admin:players_player_tags": "players.change_player_tags",
    "admin:players_player_profile": "players.change_player",
    "admin:players_player_section": "players.view_player (has_view_permission) and the section's own rules (its "
    "context function: 204 for a section the member may not see, 403 without JavaScript)",
    "admin:wallet_withdrawal_decide": "wallet.hold_withdrawal (hold, release) or wallet.approve_withdrawal",
    "admin:wallet_adjustment_decide": "wallet.approve_adjustment to decide (a GET only redirects to the change page)",
    "admin:responsible_exclusion_decide": "responsible.request_lift, responsible.decide_lift or "
    "responsible.correct_exclusion, per decision",
    "admin:kyc_review_next": "kyc.claim_review (review_next checks it again)",
    "admin:kyc_review_decide": "a review the member sees (kyc.view_review + a lead or its assignee/team, else 404); "
    "kyc.decide_review on it, role-wide or granted, checked by document_decide",
    "admin:kyc_review_second": "a review the member sees; kyc.approve_level_3 checked by approval_decide",
    "admin:kyc_document_file": "kyc.view_document and a review the member sees (else 404); audited",
    "admin:kyc_document_upload": "kyc.add_document (a GET only redirects to the player page)",
    "admin:compliance_case_do": "a case the member sees (compliance.view_case + the MLRO or its assignee/inbox team, "
    "else 404); each form's own permission (work_case on it, assign_case, case_actions) checked by its service",
    "admin:compliance_rule_draft": "compliance.add_ruleversion (version_draft checks it again)",
    "admin:compliance_rule_snooze": "compliance.snooze_rule (rule_snooze checks it again)",
    "admin:compliance_ruleversion_do": "compliance.add_ruleversion (edit, ask to publish) or compliance.publish_rule "
    "(retire), rechecked by the rulebook",
    "admin:compliance_case_away": "compliance.view_case: the member marks themselves away or back "
    "(cases.analyst_set_away on themselves)",
    "admin:compliance_case_attachment": "a case the member sees (else 404); the read is audited "
    "(attachments.attachment_read)",
    "admin:sars_sar_do": "sars.view_sar to see the report (else 404); each form's own permission (sars.draft_sar, "
    "the approval's sars.approve_sar) checked by its service",
    "admin:sars_sar_download": "sars.view_sar (else 404) and a valid export; audited",
    "admin:screening_screeninghit_review": "screening.view_screeninghit to see the hit (else 404); "
    "screening.review_screeninghit to decide (403), checked again by hits.review_hit (a GET only redirects)",
    "admin:screening_watchlist_import": "screening.view_watchlist and screening.import_list (the MLRO)",
    "admin:crm_segment_snapshot": "crm.view_segment to reach the segment and crm.change_segment to snapshot it "
    "(else 403); POST only (405); checked again by services.segment_snapshot; audited",
    "admin:crm_segment_export": "crm.view_segment and crm.export_segment (else 403); streams the CSV; checked again "
    "by services.marketing_export; audited (crm.export_started, crm.export_completed with the row count)",
    "admin:reports_reportrun_new": "a report permission (reports.run_*; none: 403); the form lists only the reports "
    "the member may run; runs.run_request checks the permission again; audited (report.requested)",
    "admin:reports_reportrun_calendar": "a report permission (none: 403); the due dates of the reports the member "
    "may run",
    "admin:reports_reportrun_schedules": "a report permission (none: 403) to see the schedules of the member's "
    "reports; reports.schedule_report to make one (schedules.schedule_create checks again); audited",
    "admin:reports_reportrun_schedule_toggle": "reports.schedule_report and the report's permission (else 403/404); "
    "POST only (405); audited (report.schedule_paused / resumed)",
    "admin:reports_reportrun_schedule_delete": "reports.schedule_report and the report's permission (else 403/404); "
    "POST only (405); audited (report.schedule_deleted)",
    "admin:reports_reportrun_page": "reports.view_reportrun (else 403) and the run's report permission (else 404, "
    "runs.run_get: a run of another family is not told apart from none)",
    "admin:reports_reportrun_download": "as the run page, then runs.run_download: the report's download permissions "
    "(403 message), the file's SHA-256 checked; audited (report.downloaded)",
    "admin:reports_reportrun_rerun": "as the run page; POST only (405); runs.run_rerun checks the permission; audited",
    "admin:reports_reportrun_cancel": "as the run page; POST only (405); runs.run_cancel checks the permission; "
    "audited (report.cancelled)",
    "admin:reports_reportrun_filed": "as the run page; POST only (405); runs.run_mark_filed checks the permission "
    "and the reference; audited (report.filed)",
    "admin:crm_campaign_start": "crm.run_campaign (else 403); POST only (405); checked again by "
    "campaigns.campaign_start; audited (crm.campaign_started)",
    "admin:crm_campaign_cancel": "crm.run_campaign (else 403); POST only (405); checked again by "
    "campaigns.campaign_cancel; audited (crm.campaign_cancelled)",
    "admin:bonuses_bonustemplate_publish": "bonuses.view_bonustemplate to reach it (else 403); POST only (404); "
    "bonuses.publish_bonustemplate checked by templates.template_publish (403); audited",
    "admin:bonuses_bonustemplate_retire": "bonuses.view_bonustemplate to reach it (else 403); POST only (404); "
    "bonuses.publish_bonustemplate checked by templates.template_retire (403); audited",
    "admin:bonuses_playerbonus_cancel": "bonuses.view_playerbonus to reach it (else 403); POST only (404); "
    "bonuses.cancel_playerbonus checked by awards.bonus_cancel (403); audited",
    "admin:screening_watchlist_rescreen": "screening.view_watchlist to see the progress; screening.import_list to "
    "start it (POST)",
    "admin:screening_watchlist_screen_file": "screening.view_watchlist and screening.screen_file; nothing is stored",
}
# Model admins whose standard pages are open to a staff member with no role: model label -> why.
ADMIN_OPEN_TO_ANY_STAFF: dict[str, str] = {}

# API routes whose view needs no scope: any valid API key may call them.
ANY_CLIENT: dict[str, str] = {
    "api/v1/client/": "who am I: any valid key",
    "api/v1/wallet/transactions/": "wallet:payments (deposit) or wallet:game (bet, win, rollback), "
    "checked by CommandView.scope_by_field once the body is read",
}

# Everything outside /admin/ and /api/v1/.
OTHER_ROUTES: dict[str, str] = {
    "": "public: redirect to /admin/",
    "healthz": "public: liveness, no data",
    "readyz": "public: readiness, no data",
    "favicon.ico": "public: redirect to the favicon's static file",
    "metrics": "Prometheus metrics (network-restricted in production)",
    "api/schema/": "public: the OpenAPI schema",
    "api/docs/": "public: Swagger UI",
    "^api/": "none: the JSON 404 for unknown API routes",
    "api/v1/bench/floor": "bench only (BENCH_FLOOR_ENDPOINT)",
    "api/v1/kyc/vendors/<slug:slug>/events/": "signed by a KYC vendor (apps/kyc/vendors.py), no API key",
    "admin/compliance/dashboard/": "a signed-in, 2FA-verified staff member with compliance.view_case (else 404); "
    "counts only the cases they may see",
}


def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def admin_url_names() -> Iterator[tuple[str, Any, str | None]]:
    """(URL name, model admin or None, standard page or None) for every URL of the admin site."""
    registry = admin.site._registry
    model_urls = set()
    for model, model_admin in registry.items():
        opts = model._meta
        for pattern in model_admin.get_urls():
            model_urls.add(id(pattern.callback))
            page = (pattern.name or "").removeprefix(f"{opts.app_label}_{opts.model_name}_")
            if pattern.name and page in STANDARD:
                yield f"admin:{pattern.name}", model_admin, page
            elif pattern.name is None and str(pattern.pattern) == "<path:object_id>/":
                continue  # Django's redirect from the old change URL to the change page: the change page's rule
            else:
                yield f"admin:{pattern.name or str(pattern.pattern)}", model_admin, None
    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLPattern):
            yield f"admin:{pattern.name or '<catch-all>'}", None, None


def request_for(user: Any) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    request.session = {}
    return request


def check(model_admin: Any, request: Any, what: str) -> bool:
    return bool(getattr(model_admin, f"has_{what}_permission")(request))


def undeclared_admin_urls() -> list[str]:
    return [name for name, _, page in admin_url_names() if page is None and name not in ADMIN_DECLARED]


def test_it_declares_every_admin_url():
    undeclared = undeclared_admin_urls()
    assert not undeclared, f"admin URLs without a declared requirement (add them to ADMIN_DECLARED): {undeclared}"
    known = {name for name, _, _ in admin_url_names()}
    stale = sorted(set(ADMIN_DECLARED) - known)
    assert not stale, f"declared admin URLs that no longer exist: {stale}"


def test_it_requires_a_model_permission_on_every_standard_admin_page(outsider: Any):
    holder = StaffUserFactory(roles=[])
    holder.user_permissions.set(Permission.objects.all())
    holder = type(holder).objects.get(pk=holder.pk)  # fresh permission cache
    nobody, everybody = request_for(outsider), request_for(holder)
    open_pages, unreachable = [], []
    for name, model_admin, page in admin_url_names():
        if page is None:
            continue
        label = model_admin.model._meta.label
        for what in PAGE_CHECKS[page]:
            if check(model_admin, nobody, what) and label not in ADMIN_OPEN_TO_ANY_STAFF:
                open_pages.append(name)
            if page == "changelist" and not check(model_admin, everybody, what):
                unreachable.append(name)
    assert not open_pages, f"admin pages open to staff with no role (declare them or check a permission): {open_pages}"
    assert not unreachable, f"changelists nobody may open, whatever their permissions: {unreachable}"


def api_routes() -> Iterator[tuple[str, Any]]:
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith("api/v1/") and route not in OTHER_ROUTES:
            yield route, pattern


def api_problems() -> dict[str, str]:
    problems: dict[str, str] = {}
    for route, pattern in api_routes():
        cls = getattr(pattern.callback, "cls", None)
        if cls is None or not issubclass(cls, APIView):
            problems[route] = "not a DRF view: declare it in OTHER_ROUTES"
            continue
        view = cls()
        if HasScopes not in [type(p) for p in view.get_permissions()]:
            problems[route] = f"{cls.__name__} does not check scopes (HasScopes)"
            continue
        methods = [m.upper() for m in cls.http_method_names if m not in ("options", "head") and hasattr(view, m)]
        try:
            scopes = {method: required_scopes_for(view, method) for method in methods}
        except ImproperlyConfigured as exc:
            problems[route] = str(exc)
            continue
        if not any(scopes.values()) and route not in ANY_CLIENT:
            problems[route] = f"{cls.__name__} requires no scope: declare it in ANY_CLIENT or name its scopes"
    return problems


def test_it_declares_the_scopes_of_every_api_route():
    problems = api_problems()
    assert not problems, f"API routes without a declared requirement: {problems}"


def test_it_names_a_new_admin_view_nobody_declared(monkeypatch: pytest.MonkeyPatch):
    model_admin = next(iter(admin.site._registry.values()))
    opts = model_admin.model._meta
    original = type(model_admin).get_urls

    def get_urls(self: Any) -> list[Any]:
        extra = path("<int:pk>/export/", lambda request, pk: None, name=f"{opts.app_label}_{opts.model_name}_export")
        return [extra, *original(self)]

    monkeypatch.setattr(type(model_admin), "get_urls", get_urls)
    assert undeclared_admin_urls() == [f"admin:{opts.app_label}_{opts.model_name}_export"]


def test_it_names_an_api_route_whose_missing_scope_nobody_declared(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(ANY_CLIENT, "api/v1/client/")
    assert list(api_problems()) == ["api/v1/client/"]


def test_it_keeps_the_route_tables_current():
    routes = {route for route, _ in walk(get_resolver().url_patterns) if not route.startswith("admin/")}
    undeclared = sorted(r for r in routes if not r.startswith("api/v1/") and r not in OTHER_ROUTES)
    assert not undeclared, f"routes without a declared requirement (add them to OTHER_ROUTES): {undeclared}"
    stale = sorted(set(ANY_CLIENT) - routes)
    assert not stale, f"ANY_CLIENT names routes that no longer exist: {stale}"
