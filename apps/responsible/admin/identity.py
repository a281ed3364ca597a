"""The checker's queue for identity edits held because an exclusion in force covers the account
(``identity_changes.py``): a different staff member with the permission applies or refuses each one."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html_join

from apps.approvals.admin_tools import reason_or_page
from apps.core.admin_tools import ReadOnlyAdmin
from apps.core.errors import ApplicationError
from apps.players.admin_filters import brand_filter
from apps.responsible.identity_changes import DECIDE_PERMISSION, identity_change_decide
from apps.responsible.models import IdentityChangeRequest
from apps.staff.models import staff_of


class PendingIdentityChangeFilter(admin.SimpleListFilter):
    title, parameter_name = "decision", "decision"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("pending", "To decide")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(approved__isnull=True) if self.value() == "pending" else queryset


@admin.register(IdentityChangeRequest)
class IdentityChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "player", "edit", "reason", "exclusion_ids", "requested_by", "requested_at", "decision")
    list_filter = (PendingIdentityChangeFilter, brand_filter("player__brand"))
    search_fields = ("=player__external_id",)
    list_select_related = ("player", "requested_by", "decided_by")
    actions = ["apply", "refuse"]

    @admin.display(description="edit")
    def edit(self, obj: IdentityChangeRequest) -> str:
        return format_html_join(
            ", ", "{}: {} → {}", ((name, c.get("old"), c.get("new")) for name, c in sorted(obj.changes.items()))
        )

    @admin.display(description="decision")
    def decision(self, obj: IdentityChangeRequest) -> str:
        if obj.approved is None:
            return "to decide"
        return f"{'applied' if obj.approved else 'refused'} by {obj.decided_by}"

    def _each(
        self, request: HttpRequest, queryset: QuerySet[IdentityChangeRequest], approve: bool, reason: str = ""
    ) -> None:
        if not request.user.has_perm(DECIDE_PERMISSION):
            raise PermissionDenied
        for change in queryset.select_related("player"):
            player = change.player
            name = f"Identity change #{change.pk} of {player.first_name} {player.last_name} ({player.external_id})"
            try:
                identity_change_decide(actor=staff_of(request), request=change, approve=approve, reason=reason)  # type: ignore[arg-type]
            except ApplicationError as exc:
                self.message_user(request, f"{name}: {exc.message}", level=messages.ERROR)
            else:
                self.message_user(request, f"{name}: {'applied' if approve else 'refused'}.")

    @admin.action(description="Apply the identity change (second staff member)")
    def apply(self, request: HttpRequest, queryset: QuerySet[IdentityChangeRequest]) -> None:
        self._each(request, queryset, approve=True)

    @admin.action(description="Refuse the identity change (with a reason)")
    def refuse(self, request: HttpRequest, queryset: QuerySet[IdentityChangeRequest]) -> HttpResponse | None:
        if not request.user.has_perm(DECIDE_PERMISSION):
            raise PermissionDenied
        reason, page = reason_or_page(self, request, queryset, title="Refuse the selected identity changes")
        if page is not None:
            return page
        self._each(request, queryset, approve=False, reason=reason or "")
        return None
