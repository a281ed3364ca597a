from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from unfold.contrib.filters.admin import RangeDateTimeFilter, TextFilter

from apps.audit.choices import ActorType
from apps.audit.models import AuditEvent
from apps.core.admin_tools import ReadOnlyAdmin
from apps.core.visibility import ViewerAdminMixin, viewer, visible_data


class ActorTypeFilter(admin.SimpleListFilter):
    """Fixed choices: no SELECT DISTINCT over the whole table."""

    title = "actor type"
    parameter_name = "actor_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(ActorType.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        return queryset.filter(actor_type=self.value()) if self.value() else queryset


class ActorFilter(TextFilter):  # type: ignore[misc]
    title = "actor (name or id)"
    parameter_name = "actor"

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(actor_name=value) | queryset.filter(actor_id=value)


class ActionFilter(TextFilter):  # type: ignore[misc]
    title = "action (exact, or a prefix ending in '.')"
    parameter_name = "action"

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        value = self.value()
        if not value:
            return queryset
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)


class TargetFilter(TextFilter):  # type: ignore[misc]
    title = "target (app.model or app.model:id)"
    parameter_name = "target"

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        value = self.value()
        if not value:
            return queryset
        target_type, _, target_id = value.partition(":")
        queryset = queryset.filter(target_type=target_type.strip().lower())
        return queryset.filter(target_id=target_id.strip()) if target_id else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ViewerAdminMixin, ReadOnlyAdmin):
    list_display = ("id", "occurred_at", "actor_display", "action", "target_display", "request_id", "ip")
    list_filter = (
        ActorTypeFilter,
        ActorFilter,
        ActionFilter,
        TargetFilter,
        ("occurred_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    # No search box: LIKE over the whole trail would scan it; the filters above use the indexes.
    fieldsets = (
        ("Event", {"fields": ("id", "occurred_at", "action")}),
        ("Actor", {"fields": ("actor_type", "actor_id", "actor_name", "request_id", "ip")}),
        ("Target", {"fields": ("target_type", "target_id", "target_label")}),
        ("Data", {"fields": ("data_pretty",)}),
        ("Chain", {"fields": ("seq", "prev_hash", "row_hash", "hash_version", "nonce", "content_mac")}),
    )
    readonly_fields = (
        "id",
        "occurred_at",
        "action",
        "actor_type",
        "actor_id",
        "actor_name",
        "request_id",
        "ip",
        "target_type",
        "target_id",
        "target_label",
        "data_pretty",
        "seq",
        "prev_hash",
        "row_hash",
        "hash_version",
        "nonce",
        "content_mac",
    )

    @admin.display(description="actor", ordering="actor_name")
    def actor_display(self, obj: AuditEvent) -> str:
        return format_html("{} <small>({})</small>", obj.actor_name, obj.get_actor_type_display())

    @admin.display(description="target")
    def target_display(self, obj: AuditEvent) -> str:
        if not obj.target_type:
            return "—"
        return format_html("{} <small>{}:{}</small>", obj.target_label, obj.target_type, obj.target_id)

    @admin.display(description="data")
    def data_pretty(self, obj: AuditEvent) -> str:
        # compliance reasons are redacted for staff without the compliance permission (tipping off)
        data = visible_data(obj.data, viewer())
        return format_html("<pre>{}</pre>", json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
