from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline

from apps.core.admin_tools import ServiceRefusalAdminMixin
from apps.geo.forms import RulePackForm
from apps.geo.models import IpOverride, Jurisdiction, RulePack
from apps.geo.services import geo_config_delete, geo_config_save


class GeoConfigAdminMixin(ServiceRefusalAdminMixin):
    """Saves and deletes go through the versioning, auditing services: edits take effect on the next check."""

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        geo_config_save(actor=request.user, obj=obj, created=not change, changed=list(form.changed_data))  # type: ignore[arg-type]

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        geo_config_delete(actor=request.user, obj=obj)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            geo_config_delete(actor=request.user, obj=obj)  # type: ignore[arg-type]


class RulePackInline(TabularInline):  # type: ignore[misc]
    model = RulePack
    fields = ("effective_from", "licensed", "registration_blocked", "visiting_blocked", "min_age")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Jurisdiction)
class JurisdictionAdmin(GeoConfigAdminMixin, SimpleHistoryAdmin, ModelAdmin):  # type: ignore[misc]
    list_display = ("code", "name", "time_zone")
    search_fields = ("code", "name")
    inlines = [RulePackInline]


@admin.register(RulePack)
class RulePackAdmin(GeoConfigAdminMixin, SimpleHistoryAdmin, ModelAdmin):  # type: ignore[misc]
    list_display = (
        "jurisdiction",
        "effective_from",
        "licensed",
        "registration_blocked",
        "visiting_blocked",
        "min_age",
        "self_exclusion_register",
    )
    list_filter = ("licensed", "visiting_blocked")
    list_select_related = ("jurisdiction",)
    ordering = ("jurisdiction__code", "-effective_from")
    form = RulePackForm
    # one field per rule, grouped as compliance staff think of them; the caps' JSON only as an advanced view
    fieldsets = (
        (None, {"fields": ("jurisdiction", "effective_from")}),
        (
            "Market",
            {"fields": ("licensed", "registration_blocked", "visiting_blocked", "high_risk", "require_presence")},
        ),
        (
            "Players",
            {
                "fields": (
                    "min_age",
                    "allowed_currencies",
                )
            },
        ),
        (
            "Identity verification (KYC)",
            {
                "fields": (
                    "kyc_level_to_deposit",
                    "kyc_level_to_play",
                    "kyc_level_to_withdraw",
                    "cdd_threshold",
                    "cdd_currency",
                    "cdd_window_days",
                    "cdd_grace_days",
                    "edd_threshold",
                )
            },
        ),
        (
            "Self-exclusion and time-outs",
            {
                "fields": (
                    "self_exclusion_register",
                    "register_check_points",
                    "register_fail_open",
                    "self_exclusion_terms",
                    "self_exclusion_return_hours",
                    "timeout_min_hours",
                    "timeout_max_hours",
                )
            },
        ),
        ("Limits", {"fields": ("limit_increase_cooling_off_hours", "limit_confirmation_hours", "deposit_caps")}),
        (
            "Play",
            {
                "fields": (
                    "stake_caps",
                    "min_spin_seconds",
                    "reality_check_minutes",
                    "session_break_after_minutes",
                    "session_break_minutes",
                )
            },
        ),
        (
            "Bonuses",
            {
                "fields": (
                    "bonus_wagering_cap",
                    "bonus_single_product",
                    "bonus_first_occasion_only",
                    "bonus_min_days_to_wager",
                    "bonus_wagering_order",
                )
            },
        ),
        ("Advanced", {"fields": ("deposit_caps_json", "stake_caps_json")}),
    )

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        # the JSON views are not columns: the audit names the caps they changed
        changed = sorted({RulePackForm.JSON_OF.get(name, name) for name in form.changed_data})
        geo_config_save(actor=request.user, obj=obj, created=not change, changed=changed)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # history matters: supersede a pack with a newer one instead


@admin.register(IpOverride)
class IpOverrideAdmin(GeoConfigAdminMixin, SimpleHistoryAdmin, ModelAdmin):  # type: ignore[misc]
    list_display = ("network", "action", "country", "reason", "active", "created_at")
    list_filter = ("action", "active")
    search_fields = ("network", "reason")
