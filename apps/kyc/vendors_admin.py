"""The verification vendors in the admin (Administrators only, kyc/0005_vendor_roles): who may post decisions to
the vendor webhook, with which secret and tolerance, and the events each has sent (read-only).

The secret is write-only: typed once (or to replace it), never shown again, never in the audit trail. Registered
from ``KycConfig.ready()``, beside the review queue's ``apps/kyc/admin/`` package.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminPasswordWidget

from apps.core.admin_tools import ReadOnlyAdmin, ServiceRefusalAdminMixin
from apps.kyc import vendors
from apps.kyc.models import Vendor, VendorEvent
from apps.staff.models import staff_of


class VendorForm(forms.ModelForm):
    # Not the model's field (which would render the stored value): a password input that never shows one.
    secret = forms.CharField(
        required=False,
        strip=True,
        widget=UnfoldAdminPasswordWidget(render_value=False),
        help_text=f"The shared HMAC-SHA256 key, at least {vendors.MIN_SECRET_LENGTH} characters. Write-only: it is "
        "never shown again. Leave empty to keep the current one.",
    )

    class Meta:
        model = Vendor
        fields = ("slug", "name", "active", "tolerance_seconds")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        secret = cleaned.get("secret") or ""
        if not self.instance.pk and not secret:
            self.add_error("secret", "Required: the key the vendor signs its events with.")
        elif secret and len(secret) < vendors.MIN_SECRET_LENGTH:
            self.add_error("secret", f"At least {vendors.MIN_SECRET_LENGTH} characters.")
        return cleaned


@admin.register(Vendor)
class VendorAdmin(ServiceRefusalAdminMixin, ModelAdmin):  # type: ignore[misc]
    form = VendorForm
    list_display = ("name", "slug", "active", "tolerance_seconds", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "slug")
    readonly_fields = ("created_at",)
    fieldsets = (
        (None, {"fields": ("name", "slug", "active")}),
        ("Signature", {"fields": ("secret", "tolerance_seconds")}),
        ("Record", {"fields": ("created_at",)}),
    )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: its events refer to it

    def save_model(self, request: HttpRequest, obj: Vendor, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        saved = vendors.vendor_save(  # a refusal the form did not foresee: ServiceRefusalAdminMixin shows it
            actor=staff_of(request),
            vendor=obj if change else None,
            slug=data["slug"],
            name=data["name"],
            secret=data.get("secret") or None,
            active=bool(data.get("active")),
            tolerance_seconds=int(data["tolerance_seconds"]),
        )
        obj.pk, obj.created_at = saved.pk, saved.created_at
        obj._state.adding = False


@admin.register(VendorEvent)
class VendorEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "vendor", "document_id", "outcome", "received_at")
    list_filter = ("vendor",)  # a few vendors; outcomes would need SELECT DISTINCT over every event
    list_select_related = ("vendor",)
    search_fields = ("event_id",)
    exclude = ("document",)  # a select of every document otherwise; the id is in document_id
    readonly_fields = ("vendor", "event_id", "document_id", "outcome", "payload_sha256", "received_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[VendorEvent]:
        return super().get_queryset(request).order_by("-received_at", "-pk")
