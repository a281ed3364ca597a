"""Limits and their changes (staff set an operator limit here, with a reason), and the flags limits raise."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from apps.core.admin_tools import ReadOnlyAdmin, ServiceRefusalAdminMixin
from apps.core.errors import ApplicationError
from apps.players.admin_filters import brand_filter
from apps.players.forms import PlayerField, PlayerPrefillMixin
from apps.players.models import Player
from apps.responsible import services
from apps.responsible.choices import (
    LimitKind,
    LimitPeriod,
    LimitSource,
)
from apps.responsible.models import (
    Flag,
    Limit,
    LimitChange,
)
from apps.staff.models import staff_of


class OperatorLimitForm(forms.ModelForm):
    """Staff set, change or remove (empty value) an operator limit, with a reason; it applies at once."""

    player_external_id = PlayerField()
    kind = forms.ChoiceField(choices=LimitKind.choices)
    period = forms.ChoiceField(choices=LimitPeriod.choices)
    reason = forms.CharField(max_length=500, help_text="Why (shown in the player's history and the audit trail)")
    value = forms.CharField(
        required=False,
        help_text="A decimal amount in the player's currency, or whole minutes for session time; empty removes it",
    )

    class Meta:
        model = Limit
        fields = ("reason",)

    def clean(self) -> dict[str, Any]:
        """Checks through the service's own parser, so the form refuses exactly what the service refuses."""
        data = super().clean() or {}
        player = data.get("player_external_id")
        if isinstance(player, Player) and data.get("kind"):
            try:
                services.parse_limit_value(data["kind"], data.get("value") or None, player.currency)
            except ApplicationError as exc:
                self.add_error("value", exc.message)
        return data


@admin.register(Limit)
class LimitAdmin(PlayerPrefillMixin, ServiceRefusalAdminMixin, ReadOnlyAdmin):
    """Limits in force and removed. Adding here sets an operator limit (staff, with a reason)."""

    list_display = ("id", "player", "kind", "period", "source", "amount", "currency", "minutes", "removed_at")
    list_filter = ("kind", "source", brand_filter("player__brand"))
    search_fields = ("=player__external_id",)
    list_select_related = ("player",)
    form = OperatorLimitForm
    fields = ("player_external_id", "kind", "period", "value", "reason")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("responsible.set_operator_limit")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields if obj is None else (*self.list_display[1:], "reason", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.get_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Limit, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        outcome = services.limit_set(
            actor=staff_of(request),
            player=data["player_external_id"],
            kind=data["kind"],
            period=data["period"],
            value=data.get("value") or None,
            source=LimitSource.OPERATOR,
            reason=data["reason"],
            staff=staff_of(request),
        )
        obj.pk = outcome.limit.pk if outcome.limit else outcome.change.limit_id

    def response_add(self, request: HttpRequest, obj: Limit, post_url_continue: str | None = None) -> Any:
        messages.success(request, "Operator limit saved.")
        player_id = Limit.objects.get(pk=obj.pk).player_id
        return HttpResponseRedirect(reverse("admin:players_player_change", args=[player_id]) + "#responsible")


@admin.register(LimitChange)
class LimitChangeAdmin(ReadOnlyAdmin):
    list_display = ("id", "player", "kind", "period", "old_value", "new_value", "status", "effective_at", "confirm_by")
    list_filter = ("status", "kind", brand_filter("player__brand"))
    search_fields = ("=player__external_id",)
    list_select_related = ("player",)


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ("id", "player", "kind", "period_key", "created_at")
    list_filter = ("kind", brand_filter("player__brand"))
    search_fields = ("=player__external_id",)
    list_select_related = ("player",)
