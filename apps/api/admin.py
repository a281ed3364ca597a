from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import action
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget, UnfoldAdminTextInputWidget

from apps.api import services
from apps.api.models import ApiClient
from apps.api.scopes import Scope
from apps.core.admin_tools import ServiceRefusalAdminMixin
from apps.core.errors import ApplicationError, ValidationFailed
from apps.players.admin_filters import brand_filter
from apps.players.models import Brand


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=UnfoldAdminCheckboxSelectMultipleWidget, required=False
    )
    brands = forms.ModelMultipleChoiceField(
        queryset=Brand.objects.order_by("name"),
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        required=False,
        help_text="The client sees and registers only these brands' players. None ticked: the default brand.",
    )
    allowed_networks = forms.CharField(
        required=False,
        # a form field of its own (the model's is a list): unfold's widget, or the input has no border
        widget=UnfoldAdminTextInputWidget,
        help_text="Comma-separated CIDR networks, e.g. 203.0.113.0/24, 2001:db8::/32. Empty: any address.",
    )

    class Meta:
        model = ApiClient
        fields = ("name", "brands", "scopes", "allowed_networks", "throttle_rate", "expiry_date")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed_networks"] = ", ".join(self.instance.allowed_networks)

    def clean_allowed_networks(self) -> list[str]:
        return [p.strip() for p in (self.cleaned_data.get("allowed_networks") or "").split(",") if p.strip()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:  # the service's own validation, shown on the form
            services.api_client_clean(
                name=cleaned.get("name") or "",
                scopes=cleaned.get("scopes") or [],
                allowed_networks=cleaned.get("allowed_networks") or [],
                throttle_rate=cleaned.get("throttle_rate") or "",
            )
        except ValidationFailed as exc:
            for field, errors in exc.fields.items():
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)
        return cleaned


@admin.register(ApiClient)
class ApiClientAdmin(ServiceRefusalAdminMixin, ModelAdmin):  # type: ignore[misc]
    form = ApiClientForm
    list_display = ("name", "prefix", "brand_list", "scope_list", "revoked", "created", "last_used_at", "expiry_date")
    list_filter = ("revoked", brand_filter("brands"))
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "revoked", "created", "last_used_at")
    actions = ["revoke"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the audit trail refers to clients by prefix

    @admin.display(description="brands")
    def brand_list(self, obj: ApiClient) -> str:
        return format_html("<small>{}</small>", ", ".join(b.code for b in obj.brands.all()) or "—")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiClient]:
        return super().get_queryset(request).prefetch_related("brands")  # brand_list: one query, not one a row

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiClient) -> str:
        return format_html("<small>{}</small>", ", ".join(obj.scopes) or "—")

    def save_model(self, request: HttpRequest, obj: ApiClient, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "scopes": data.get("scopes") or [],
            "allowed_networks": data.get("allowed_networks") or [],
            "throttle_rate": data.get("throttle_rate") or "",
            "expiry_date": data.get("expiry_date"),
            "brands": list(data.get("brands") or []) or None,  # none ticked: the default brand (new) or unchanged
        }
        if change:
            services.api_client_update(actor=request.user, client=obj, **fields)  # type: ignore[arg-type]
            return
        client, key = services.api_client_create(actor=request.user, **fields)  # type: ignore[arg-type]
        obj.pk, obj.prefix, obj.hashed_key, obj.created = client.pk, client.prefix, client.hashed_key, client.created
        obj._state.adding = False
        messages.warning(
            request, format_html("API key for {} (shown once, copy it now): <code>{}</code>", obj.name, key)
        )

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        """The brands were set (and audited) by the service in ``save_model``: the form must not set them again."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # offered to and allowed for holders of change_apiclient only (unfold answers anyone else 403)
    @action(description="Revoke selected keys (cannot be undone)", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        revoked = 0
        for client in queryset:
            try:
                services.api_client_revoke(actor=request.user, client=client, reason="revoked in the admin")  # type: ignore[arg-type]
                revoked += 1
            except ApplicationError as exc:
                messages.error(request, f"{client}: {exc.message}")
        if revoked:
            messages.success(request, f"{revoked} key(s) revoked; they stop working at once on every worker.")
