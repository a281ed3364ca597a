"""The audit trail in the admin: a list that fits a 1400 px screen (when, event, by whom, on what, a one-line
summary of the data), a search that reads the indexes where the term's shape allows it, and the whole event, its
changes as a table, on its own page. Compliance text is redacted for staff without the compliance permission."""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
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


SUMMARY_CHARS = 90
EVENT = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+\.?$|^[a-z][a-z0-9_]*\.$")  # player.blocked, or a prefix "player."
OBJECT = re.compile(r"^([a-z_]+\.[a-z0-9_]+):(\S+)$")  # players.player:42
REQUEST_ID = re.compile(r"^[0-9a-fA-F-]{16,}$")


def search_filter(term: str) -> Q:
    """What a search term finds, read from its shape so that most searches use an index of the trail:
    ``app.model:id`` an object (the target index), ``player.blocked`` an event (``player.`` every event of the
    area; the action index), a staff member's username or e-mail what they did (the actor index), and a request
    id, any actor or object name exactly (these scan: the trail has no index on them)."""
    term = term.strip()
    if match := OBJECT.match(term):
        return Q(target_type=match.group(1).lower(), target_id=match.group(2))
    staff = get_user_model().objects.filter(Q(username=term) | Q(email__iexact=term)).values_list("pk", flat=True)
    ids = [str(pk) for pk in staff[:5]]
    by_staff = Q(actor_type=ActorType.STAFF, actor_id__in=ids) if ids else Q(pk__in=[])
    if EVENT.match(term):  # a username may look like an event (ann.lee): both, each on its index
        found = Q(action__startswith=term) if term.endswith(".") else Q(action=term)
        return found | by_staff if ids else found
    found = Q(actor_name=term) | Q(target_label=term) | by_staff
    if REQUEST_ID.match(term):
        found |= Q(request_id=term)
    return found


def _short(value: Any) -> str:
    if isinstance(value, dict) and set(value) <= {"old", "new"}:
        return f"{_short(value.get('old'))} → {_short(value.get('new'))}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _changes(data: Any) -> list[tuple[str, Any, Any]] | None:
    """``{"field": {"old": a, "new": b}, ...}`` (and ``{"old": {...}, "new": {...}}``) as rows, else None."""
    if not isinstance(data, dict) or not data:
        return None
    if set(data) == {"old", "new"} and isinstance(data["old"], dict) and isinstance(data["new"], dict):
        keys = sorted(set(data["old"]) | set(data["new"]))
        return [(k, data["old"].get(k), data["new"].get(k)) for k in keys]
    rows = [(k, v["old"], v["new"]) for k, v in data.items() if isinstance(v, dict) and set(v) == {"old", "new"}]
    return rows or None


COMPLIANCE_VIEW = "compliance.view_case"  # named, not imported: the audit app does not depend on compliance
SARS_VIEW = "sars.view_sar"  # the reports to the FIU: their events exist only for the MLRO
# the apps behind the wall, each with the permission that lets a member see its events
WALLED = (("compliance", COMPLIANCE_VIEW), ("screening", COMPLIANCE_VIEW), ("sars", SARS_VIEW))


def _without(queryset: QuerySet[AuditEvent], app: str) -> QuerySet[AuditEvent]:
    return (
        queryset.exclude(action__startswith=f"{app}.")
        .exclude(target_type__startswith=f"{app}.")
        # the Approvals events of the app's maker-checker kinds (has_key first: a missing key is NULL, which a
        # NOT LIKE alone would take for a match and hide every event without a kind)
        .exclude(Q(data__has_key="kind") & Q(data__kind__startswith=f"{app}."))
    )


def hide_compliance(queryset: QuerySet[AuditEvent], user: Any) -> QuerySet[AuditEvent]:
    """The events of AML cases, screening and SARs, for staff who may not know of them: gone. An AML Analyst sees
    the cases' and screening's events but not whether a report to the FIU was made (``sars.view_sar``)."""
    for app, permission in WALLED:
        if user is None or not user.has_perm(permission):
            queryset = _without(queryset, app)
    return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ViewerAdminMixin, ReadOnlyAdmin):
    # Five columns that fit 1400 px: request id, address and the full data are on the event's page.
    list_display = ("occurred", "event", "actor_display", "target_display", "summary")
    list_display_links = ("occurred", "event")
    list_filter = (
        ActorTypeFilter,
        ActorFilter,
        ActionFilter,
        TargetFilter,
        ("occurred_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("action",)  # shows the box; get_search_results says what a term finds
    # unfold shows it as the box's placeholder: short enough to read there
    search_help_text = "Event (player.blocked, player.), object (players.player:42), staff, request id"
    fieldsets = (
        ("Event", {"fields": ("id", "occurred_at", "action")}),
        ("Who", {"fields": ("actor_type", "actor_id", "actor_name", "request_id", "ip")}),
        ("On what", {"fields": ("target_type", "target_id", "target_label")}),
        ("Changes", {"fields": ("changes_table", "data_pretty")}),
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
        "changes_table",
        "data_pretty",
        "seq",
        "prev_hash",
        "row_hash",
        "hash_version",
        "nonce",
        "content_mac",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        """The tipping-off wall: the events of AML monitoring and cases (``compliance.*`` actions, compliance
        objects as targets, the Approvals inbox's events of a ``compliance.*`` kind) do not exist for staff
        without ``compliance.view_case``: not listed, not found by a search or a filter, not counted, and their
        page answers as an event that does not exist."""
        return hide_compliance(super().get_queryset(request), request.user)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent], search_term: str
    ) -> tuple[QuerySet[AuditEvent], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(search_filter(search_term)), False

    @admin.display(description="when", ordering="id")
    def occurred(self, obj: AuditEvent) -> str:
        return format_html(
            '<span class="whitespace-nowrap" title="{}">{}</span>',
            obj.occurred_at.isoformat(),
            obj.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
        )

    @admin.display(description="event", ordering="action")
    def event(self, obj: AuditEvent) -> str:
        return obj.action

    @admin.display(description="by", ordering="actor_name")
    def actor_display(self, obj: AuditEvent) -> str:
        return format_html("{} <small>({})</small>", obj.actor_name, obj.get_actor_type_display())

    @admin.display(description="on")
    def target_display(self, obj: AuditEvent) -> str:
        if not obj.target_type:
            return "—"
        label = Truncator(obj.target_label).chars(40)
        return format_html("{}<br><small>{}:{}</small>", label, obj.target_type, obj.target_id)

    @admin.display(description="details")
    def summary(self, obj: AuditEvent) -> str:
        # compliance reasons are redacted for staff without the compliance permission (tipping off)
        data = visible_data(obj.data, viewer())
        if not data:
            return "—"
        if isinstance(data, dict):
            text = "; ".join(f"{k}: {_short(v)}" for k, v in sorted(data.items()))
        else:
            text = _short(data)
        return format_html('<span class="text-xs">{}</span>', Truncator(text).chars(SUMMARY_CHARS))

    @admin.display(description="changes")
    def changes_table(self, obj: AuditEvent) -> str:
        rows = _changes(visible_data(obj.data, viewer()))
        if not rows:
            return "—"
        cells = format_html_join(
            "",
            '<tr><th class="pr-4 text-left align-top">{}</th><td class="pr-4 align-top">{}</td>'
            '<td class="align-top">{}</td></tr>',
            ((field, _short(old), _short(new)) for field, old, new in rows),
        )
        return format_html(
            '<table id="audit-changes"><thead><tr><th class="pr-4 text-left">field</th>'
            '<th class="pr-4 text-left">before</th><th class="text-left">after</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            cells,
        )

    @admin.display(description="data")
    def data_pretty(self, obj: AuditEvent) -> str:
        # compliance reasons are redacted for staff without the compliance permission (tipping off)
        data = visible_data(obj.data, viewer())
        return format_html(
            '<pre class="whitespace-pre-wrap break-all">{}</pre>',
            json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False),
        )
