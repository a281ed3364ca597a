"""Finance's screens: the withdrawal queue, manual adjustments (maker-checker), a read-only ledger."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import action

from apps.approvals import selectors as approvals_selectors
from apps.approvals.admin_tools import reason_or_page
from apps.core.admin_tools import ReadOnlyAdmin, ServiceRefusalAdminMixin
from apps.core.errors import ApplicationError
from apps.players.admin_filters import brand_filter
from apps.players.forms import PlayerField, PlayerPrefillMixin
from apps.players.models import Player
from apps.staff.models import staff_of
from apps.wallet import posting, services
from apps.wallet.choices import AdjustmentStatus, TransactionType, WithdrawalStatus
from apps.wallet.models import Adjustment, Entry, LedgerTransaction, Withdrawal, WithdrawalHold


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


class WithdrawalStatusFilter(FixedChoiceFilter):
    title, parameter_name, field, options = "status", "status", "status", list(WithdrawalStatus.choices)


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


class HoldForm(forms.Form):
    reason = forms.CharField(max_length=500)


@admin.register(Withdrawal)
class WithdrawalAdmin(ModelAdmin):  # type: ignore[misc]
    """The approval queue: oldest pending first; holds, approvals and settlements go through the services."""

    list_display = (
        "id",
        "requested_at",
        "player",
        "player_state",
        "amount",
        "currency",
        "status",
        "approvals",
        "active_holds",
    )
    list_filter = (WithdrawalStatusFilter, brand_filter("player__brand"))
    list_select_related = ("player", "first_approver", "second_approver")
    ordering = ("id",)
    actions = ["approve", "mark_paid"]
    readonly_fields = (
        "player",
        "amount",
        "currency",
        "status",
        "requested_at",
        "reference",
        "payment_method",
        "first_approver",
        "second_approver",
        "decided_at",
        "decision_reason",
    )
    change_form_template = "admin/wallet/withdrawal_change.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="approvals")
    def approvals(self, obj: Withdrawal) -> str:
        """From the row itself (no query per row): a first approval on a pending withdrawal waits for a second."""
        names = [str(u) for u in (obj.first_approver, obj.second_approver) if u]
        if obj.status == WithdrawalStatus.PENDING and obj.first_approver_id:
            return f"1/2 {', '.join(names)}: waiting for a second approver"
        return f"{len(names)} {', '.join(names)}".strip()

    @admin.display(description="player")
    def player_state(self, obj: Withdrawal) -> str:
        """The account's status and blocks (no reasons: those are on the player page, for who may see them)."""
        player = obj.player
        blocks = [c for c in ("deposit", "bet", "withdrawal", "bonus", "marketing") if getattr(player, f"blocked_{c}")]
        state = player.get_status_display()
        return f"{state}; blocked: {', '.join(blocks)}" if blocks else state

    @admin.display(description="holds")
    def active_holds(self, obj: Withdrawal) -> int:
        return obj.holds.filter(released_at__isnull=True).count()

    def _each(self, request: HttpRequest, queryset: QuerySet[Withdrawal], fn: Any) -> None:
        if not request.user.has_perm("wallet.approve_withdrawal"):
            raise PermissionDenied
        for w in queryset:
            try:
                fn(w)
            except ApplicationError as exc:
                messages.error(request, f"#{w.pk}: {exc.message}")
            else:
                messages.success(request, f"#{w.pk}: done.")

    @action(description="Approve (a second approver is needed above the threshold)")
    def approve(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> None:
        self._each(request, queryset, lambda w: services.withdrawal_approve(actor=staff_of(request), withdrawal=w))

    @action(description="Mark paid by the payment provider")
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> None:
        self._each(
            request, queryset, lambda w: services.withdrawal_settle(actor=staff_of(request), withdrawal=w, paid=True)
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [path("<int:pk>/decide/", view(self.decide_view), name="wallet_withdrawal_decide"), *super().get_urls()]

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Approve (first or second approval; an optional note), reject, mark failed, place or release a hold
        (each with a reason)."""
        withdrawal = get_object_or_404(Withdrawal, pk=pk)
        back = HttpResponseRedirect(reverse("admin:wallet_withdrawal_change", args=[pk]))
        if request.method != "POST":
            return back
        what, actor = request.POST.get("what", ""), staff_of(request)
        perm = "wallet.hold_withdrawal" if what in ("hold", "release") else "wallet.approve_withdrawal"
        if not request.user.has_perm(perm):
            raise PermissionDenied
        reason = request.POST.get("reason", "")
        if "\x00" in reason:  # read raw, so no form field refuses it: the database would
            messages.error(request, "The reason may not contain a NUL character.")
            return back
        try:
            if what == "approve":  # the same service as the queue's action and the Approvals inbox
                services.withdrawal_approve(actor=actor, withdrawal=withdrawal, reason=reason)
            elif what == "reject":
                services.withdrawal_reject(actor=actor, withdrawal=withdrawal, reason=reason)
            elif what == "failed":
                services.withdrawal_settle(actor=actor, withdrawal=withdrawal, paid=False, reason=reason)
            elif what == "hold":
                services.withdrawal_place_hold(actor=actor, withdrawal=withdrawal, reason=reason)
            elif what == "release":
                hold_id = request.POST.get("hold", "")
                if not hold_id.isascii() or not hold_id.isdigit():  # a form message, not a 500 on int("abc")
                    messages.error(request, "Choose the hold to release.")
                    return back
                hold = get_object_or_404(WithdrawalHold, pk=int(hold_id), withdrawal=withdrawal)
                services.withdrawal_release_hold(actor=actor, hold=hold, reason=reason)
            else:
                messages.error(request, "Unknown decision.")
                return back
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Done.")
        return back

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        withdrawal = get_object_or_404(Withdrawal, pk=object_id)
        decisions = [
            ("hold", "Place a hold"),
            ("reject", "Reject: funds back to the player"),
            ("failed", "Payout failed: funds back to the player"),
        ]
        pending = approvals_selectors.pending_for(withdrawal, kind=services.WITHDRAWAL_KIND)
        extra = {
            "holds": list(withdrawal.holds.all()),
            "withdrawal": withdrawal,
            "decisions": decisions,
            "can_approve": withdrawal.status == WithdrawalStatus.PENDING
            and request.user.has_perm("wallet.approve_withdrawal")
            and (pending is None or pending.maker_id != request.user.pk),  # never one's own first approval
            "pending_approval": pending,
            "needs_second": services.needs_second_approval(withdrawal),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)


class AdjustmentForm(forms.ModelForm):
    player_external_id = PlayerField()
    amount_text = forms.CharField(label="Amount", help_text="A decimal string; negative debits, e.g. -10.00")

    class Meta:
        model = Adjustment
        fields = ("reason",)


@admin.register(Adjustment)
class AdjustmentAdmin(PlayerPrefillMixin, ServiceRefusalAdminMixin, ModelAdmin):  # type: ignore[misc]
    """Manual adjustments: the requester posts small ones at once; above the threshold another person approves."""

    list_display = ("id", "requested_at", "player", "amount", "currency", "status", "requested_by", "approved_by")
    list_select_related = ("player", "requested_by", "approved_by")
    list_filter = (brand_filter("player__brand"),)
    actions = ["approve", "reject"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = AdjustmentForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return (
            "player",
            "amount",
            "currency",
            "reason",
            "status",
            "requested_by",
            "requested_at",
            "approved_by",
            "decided_at",
            "posted",
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (
            ("player_external_id", "amount_text", "reason") if obj is None else self.get_readonly_fields(request, obj)
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Adjustment, form: forms.ModelForm, change: bool) -> None:
        created = services.adjustment_request(
            actor=staff_of(request),
            player=form.cleaned_data["player_external_id"],
            amount=form.cleaned_data["amount_text"],
            reason=form.cleaned_data["reason"],
        )
        # the admin's message names this object: it is the one the service made ("adjustment #7 500.0000 GBP")
        obj.pk, obj.player, obj.amount, obj.currency, obj.status = (
            created.pk,
            created.player,
            created.amount,
            created.currency,
            created.status,
        )
        obj._state.adding = False
        if created.status == AdjustmentStatus.PENDING:
            messages.warning(request, "Above the threshold: another staff member must approve this adjustment.")

    def _decide(self, request: HttpRequest, queryset: QuerySet[Adjustment], approve: bool, reason: str = "") -> None:
        for adjustment in queryset:
            try:
                decided = services.adjustment_decide(
                    actor=staff_of(request), adjustment=adjustment, approve=approve, reason=reason
                )
            except ApplicationError as exc:
                messages.error(request, f"Adjustment #{adjustment.pk}: {exc.message}")
            else:
                messages.success(request, f"Adjustment #{decided.pk}: {decided.get_status_display().lower()}.")

    @action(description="Approve (not your own)")
    def approve(self, request: HttpRequest, queryset: QuerySet[Adjustment]) -> None:
        if not request.user.has_perm("wallet.approve_adjustment"):
            raise PermissionDenied
        self._decide(request, queryset, approve=True)

    @action(description="Reject (with a reason)")
    def reject(self, request: HttpRequest, queryset: QuerySet[Adjustment]) -> HttpResponse | None:
        if not request.user.has_perm("wallet.approve_adjustment"):
            raise PermissionDenied
        reason, page = reason_or_page(self, request, queryset, title="Reject the selected adjustments")
        if page is not None:
            return page
        self._decide(request, queryset, approve=False, reason=reason or "")
        return None
