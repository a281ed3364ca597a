"""The read-only ledger and the wallet section of the player page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import TabularInline
from unfold.contrib.filters.admin import RangeDateTimeFilter

from apps.core.admin_tools import ReadOnlyAdmin
from apps.players.admin_filters import brand_filter
from apps.players.models import Player
from apps.wallet import posting, services
from apps.wallet.choices import TransactionType
from apps.wallet.models import Entry, LedgerTransaction, Withdrawal


def player_wallet_section(request: HttpRequest, player: Player) -> dict[str, Any] | None:
    if not request.user.has_perm("wallet.view_ledgertransaction"):
        return None
    return {
        "balances": posting.balances(player.pk, player.currency),
        "transactions": list(LedgerTransaction.objects.filter(player=player).order_by("-id")[:20]),
        "withdrawals": list(Withdrawal.objects.filter(player=player, status__in=services.OPEN)),
        "can_adjust": request.user.has_perm("wallet.add_adjustment"),
    }


class FixedChoiceFilter(admin.SimpleListFilter):
    """A filter with fixed choices: never a SELECT DISTINCT over a big table."""

    field = ""
    options: list[tuple[str, str]] = []

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return self.options

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class TransactionTypeFilter(FixedChoiceFilter):
    title, parameter_name, field, options = "type", "type", "type", list(TransactionType.choices)


class EntryInline(TabularInline):  # type: ignore[misc]
    model = Entry
    fields = ("account", "amount", "currency", "created_at")
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "type", "player", "amount", "currency", "round_id", "reference")
    list_filter = (TransactionTypeFilter, brand_filter("player__brand"), ("created_at", RangeDateTimeFilter))
    list_filter_submit = True
    list_select_related = ("player",)
    search_fields = ("=reference", "=round_id", "=player__external_id")
    inlines = [EntryInline]
