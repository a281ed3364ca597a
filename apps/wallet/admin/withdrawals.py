"""The withdrawal queue and each withdrawal's page: every decision through the wallet services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import action

from apps.api.models import ApiClient
from apps.approvals import selectors as approvals_selectors
from apps.core.admin_tools import DefaultChoiceFilter
from apps.core.errors import ApplicationError
from apps.core.templatetags.money import format_money
from apps.players.admin_filters import brand_filter
from apps.players.eligibility import can
from apps.players.page import reason_text
from apps.staff.models import staff_of
from apps.wallet import posting, selectors, services
from apps.wallet.choices import AccountKind, WithdrawalStatus
from apps.wallet.models import Account, Withdrawal, WithdrawalHold


class WithdrawalQueueFilter(DefaultChoiceFilter):
    """What needs work by default: pending, held and approved-not-paid. Closed ones only when asked for."""

    # "status", the parameter of the plain status filter this replaced: links and bookmarks keep working
    title, parameter_name = "queue", "status"
    WORK, HELD, FIRST, SECOND, ALL = "work", "held", "first", "second", "all"
    default = WORK  # the work queue; "all" is an explicit choice
    OPTIONS = [
        (WORK, "Needs work (pending, held, approved)"),
        (WithdrawalStatus.PENDING, "Pending approval"),
        (FIRST, "Waiting for a first approval"),
        (SECOND, "Waiting for a second approver"),
        (HELD, "Held"),
        (WithdrawalStatus.APPROVED, "Approved, awaiting payout"),
        (WithdrawalStatus.PAID, "Paid"),
        (WithdrawalStatus.REJECTED, "Rejected"),
        (WithdrawalStatus.FAILED, "Payout failed"),
        (WithdrawalStatus.CANCELLED, "Cancelled by the player"),
        (ALL, "All"),
    ]

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return self.OPTIONS

    def queryset(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> QuerySet[Withdrawal]:
        value = self.value()
        if value == self.WORK:
            return queryset.filter(status__in=services.OPEN)
        if value in (self.FIRST, self.SECOND):
            pending = queryset.filter(status=WithdrawalStatus.PENDING)
            return pending.filter(first_approver__isnull=value == self.FIRST)
        if value == self.HELD:
            return queryset.filter(status__in=services.OPEN).filter(Exists(_active_holds()))
        if value in WithdrawalStatus.values:
            return queryset.filter(status=value)
        return queryset


def _active_holds() -> QuerySet[WithdrawalHold]:
    return WithdrawalHold.objects.filter(withdrawal=OuterRef("pk"), released_at__isnull=True)


def _named(withdrawal: Withdrawal) -> str:
    """How a message names a withdrawal: "Withdrawal #7 of Ada Byron, GBP 1,500.00"."""
    player = withdrawal.player
    return (
        f"Withdrawal #{withdrawal.pk} of {player.first_name} {player.last_name}, "
        f"{format_money(withdrawal.amount, withdrawal.currency)}"
    )


def _outcome(withdrawal: Withdrawal, actor_id: int) -> str:
    """Where the withdrawal stands after an approval, in words."""
    if withdrawal.status == WithdrawalStatus.APPROVED:
        return "approved, awaiting payout"
    pending = approvals_selectors.pending_for(withdrawal, kind=services.WITHDRAWAL_KIND)
    if pending is not None and pending.maker_id == actor_id:
        return "waiting for a second approver; you approved first, someone else must"
    return withdrawal.get_status_display().lower()


def _words(code: str) -> str:
    """An eligibility reason as the player page says it ("blocked_for_withdrawal": "withdrawals are blocked")."""
    return reason_text(code)


def _refusal(exc: ApplicationError) -> str:
    """A service's refusal for the page: eligibility reasons in words rather than codes."""
    reasons = exc.fields.get("reasons")
    if reasons:
        return f"The player may not withdraw now: {'; '.join(_words(r) for r in reasons)}."
    return exc.message


BLOCKABLE = ("deposit", "bet", "withdrawal", "bonus", "marketing")
DECISION_LABELS = {
    selectors.APPROVE: "Approve",
    selectors.PAID: "Mark paid",
    selectors.FAILED: "Payout failed: funds back to the player",
    selectors.REJECT: "Reject: funds back to the player",
    selectors.HOLD: "Place a hold",
}


@admin.register(Withdrawal)
class WithdrawalAdmin(ModelAdmin):  # type: ignore[misc]
    """The approval queue: oldest first, what needs work by default. Every decision goes through the services,
    from the withdrawal's own page (decide_view) or the queue's bulk actions."""

    list_display = (
        "id",
        "requested_at",
        "player_link",
        "jurisdiction",
        "player_state",
        "cash",
        "money",
        "status",
        "approvals",
        "active_holds",
        "client",
    )
    list_display_links = ("id",)
    list_filter = (WithdrawalQueueFilter, brand_filter("player__brand"))
    list_select_related = ("player", "first_approver", "second_approver")
    ordering = ("id",)
    actions = ["approve", "mark_paid"]
    readonly_fields = (
        "player",
        "money",
        "status",
        "requested_at",
        "reference",
        "payment_method",
        "client",
        "first_approver",
        "second_approver",
        "decided_at",
        "decision_reason",
    )
    fields = readonly_fields
    change_form_template = "admin/wallet/withdrawal_change.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Withdrawal]:
        # the queue's columns in the page's one query: the player's cash, the active holds and the API client's
        # name are subqueries per row (indexed lookups), so no column costs a query per row
        cash = Account.objects.filter(
            player_id=OuterRef("player_id"), kind=AccountKind.CASH, currency=OuterRef("currency")
        ).values("balance")[:1]
        holds = _active_holds().order_by().values("withdrawal").annotate(n=Count("id")).values("n")
        client = ApiClient.objects.filter(prefix=OuterRef("api_client")).values("name")[:1]
        return (
            super()
            .get_queryset(request)
            .annotate(
                cash_balance=Subquery(cash),
                active_hold_count=Coalesce(Subquery(holds), Value(0)),
                api_client_name=Subquery(client),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="player", ordering="player__last_name")
    def player_link(self, obj: Withdrawal) -> str:
        url = reverse("admin:players_player_change", args=[obj.player_id])
        return format_html('<a class="underline" href="{}">{} {}</a>', url, obj.player.first_name, obj.player.last_name)

    @admin.display(description="jurisdiction")
    def jurisdiction(self, obj: Withdrawal) -> str:
        return obj.player.region or obj.player.country

    @admin.display(description="cash balance")
    def cash(self, obj: Withdrawal) -> str:
        return format_money(getattr(obj, "cash_balance", None) or 0, obj.currency)

    @admin.display(description="amount", ordering="amount")
    def money(self, obj: Withdrawal) -> str:
        return format_money(obj.amount, obj.currency)

    @admin.display(description="API client")
    def client(self, obj: Withdrawal) -> str:
        name = getattr(obj, "api_client_name", None)
        if name is None and obj.api_client:  # the page of one withdrawal: not annotated there
            name = ApiClient.objects.filter(prefix=obj.api_client).values_list("name", flat=True).first()
        return name or ("—" if not obj.api_client else f"unknown client ({obj.api_client})")

    @admin.display(description="approvals")
    def approvals(self, obj: Withdrawal) -> str:
        """From the row itself (no query per row): a first approval on a pending withdrawal waits for a second."""
        names = [str(u) for u in (obj.first_approver, obj.second_approver) if u]
        if obj.status == WithdrawalStatus.PENDING and obj.first_approver_id:
            return f"1/2 {', '.join(names)}: waiting for a second approver"
        return ", ".join(names) or "—"

    @admin.display(description="player status")
    def player_state(self, obj: Withdrawal) -> str:
        """The account's status and blocks (no reasons: those are on the player page, for who may see them)."""
        player = obj.player
        blocks = [c for c in BLOCKABLE if getattr(player, f"blocked_{c}")]
        state = player.get_status_display()
        return f"{state}; blocked: {', '.join(blocks)}" if blocks else state

    @admin.display(description="holds")
    def active_holds(self, obj: Withdrawal) -> int:
        count = getattr(obj, "active_hold_count", None)
        return obj.holds.filter(released_at__isnull=True).count() if count is None else int(count)

    def _each(self, request: HttpRequest, queryset: QuerySet[Withdrawal], fn: Any, done: str) -> None:
        if not request.user.has_perm("wallet.approve_withdrawal"):
            raise PermissionDenied
        for w in queryset:
            try:
                decided = fn(w)
            except ApplicationError as exc:
                messages.error(request, f"{_named(w)}: {_refusal(exc)}")
            else:
                messages.success(request, f"{_named(decided)}: {done or _outcome(decided, staff_of(request).pk)}.")

    @action(description="Approve (a second approver is needed above the threshold)")
    def approve(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> None:
        actor = staff_of(request)
        self._each(request, queryset, lambda w: services.withdrawal_approve(actor=actor, withdrawal=w), "")

    @action(description="Mark paid by the payment provider")
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> None:
        actor = staff_of(request)
        self._each(
            request, queryset, lambda w: services.withdrawal_settle(actor=actor, withdrawal=w, paid=True), "paid"
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [path("<int:pk>/decide/", view(self.decide_view), name="wallet_withdrawal_decide"), *super().get_urls()]

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """One decision from the withdrawal's page, through its service: approve (first or second approval; an
        optional note), mark paid, payout failed, reject, place or release a hold (each of these with a reason).
        The service refuses a decision that does not fit the state, whatever the page offered."""
        withdrawal = get_object_or_404(Withdrawal.objects.select_related("player"), pk=pk)
        back = HttpResponseRedirect(reverse("admin:wallet_withdrawal_change", args=[pk]))
        if request.method != "POST":
            return back
        what, actor = request.POST.get("what", ""), staff_of(request)
        perm = "wallet.hold_withdrawal" if what in (selectors.HOLD, selectors.RELEASE) else "wallet.approve_withdrawal"
        if not request.user.has_perm(perm):
            raise PermissionDenied
        reason = request.POST.get("reason", "")
        if "\x00" in reason:  # read raw, so no form field refuses it: the database would
            messages.error(request, "The reason may not contain a NUL character.")
            return back
        name = _named(withdrawal)
        try:
            if what == selectors.APPROVE:  # the same service as the queue's action and the Approvals inbox
                approved = services.withdrawal_approve(actor=actor, withdrawal=withdrawal, reason=reason)
                done = _outcome(approved, actor.pk)
            elif what == selectors.PAID:
                services.withdrawal_settle(actor=actor, withdrawal=withdrawal, paid=True, reason=reason)
                done = "marked paid"
            elif what == selectors.REJECT:
                decided = services.withdrawal_reject(actor=actor, withdrawal=withdrawal, reason=reason)
                done = "rejected: the funds are back with the player" if decided.status == "rejected" else "decided"
            elif what == selectors.FAILED:
                services.withdrawal_settle(actor=actor, withdrawal=withdrawal, paid=False, reason=reason)
                done = "payout failed: the funds are back with the player"
            elif what == selectors.HOLD:
                hold = services.withdrawal_place_hold(actor=actor, withdrawal=withdrawal, reason=reason)
                done = f"hold #{hold.pk} placed"
            elif what == selectors.RELEASE:
                hold_id = request.POST.get("hold", "")
                if not hold_id.isascii() or not hold_id.isdigit():  # a form message, not a 500 on int("abc")
                    messages.error(request, "Choose the hold to release.")
                    return back
                hold = get_object_or_404(WithdrawalHold, pk=int(hold_id), withdrawal=withdrawal)
                services.withdrawal_release_hold(actor=actor, hold=hold, reason=reason)
                done = f"hold #{hold.pk} released"
            else:
                messages.error(request, "Unknown decision.")
                return back
        except ApplicationError as exc:
            messages.error(request, f"{name}: nothing changed. {_refusal(exc)}")
        else:
            messages.success(request, f"{name}: {done}.")
        return back

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # the admin's own checks first (object grants included), before anything about the player is read
        found = self.get_object(request, object_id)
        if found is None:
            raise Http404("No such withdrawal.")
        if not self.has_view_or_change_permission(request, found):
            raise PermissionDenied
        withdrawal = get_object_or_404(Withdrawal.objects.select_related("player"), pk=object_id)
        player = withdrawal.player
        holds = list(withdrawal.holds.select_related("placed_by", "released_by").order_by("id"))
        active = [h for h in holds if h.released_at is None]
        pending = approvals_selectors.pending_for(withdrawal, kind=services.WITHDRAWAL_KIND)
        offered = selectors.withdrawal_decisions(
            withdrawal,
            active_holds=len(active),
            first_approver_id=pending.maker_id if pending is not None else None,
            viewer_id=request.user.pk,
        )
        may_decide, may_hold = (
            request.user.has_perm("wallet.approve_withdrawal"),
            request.user.has_perm("wallet.hold_withdrawal"),
        )
        allowed = [w for w in offered if (may_hold if w in (selectors.HOLD, selectors.RELEASE) else may_decide)]
        eligibility = can(player, "withdraw", amount=withdrawal.amount, ask_registers=False)
        extra = {
            "withdrawal": withdrawal,
            "player": player,
            "balances": posting.balances(player.pk, withdrawal.currency),
            "eligibility": eligibility,
            "refusals": [(code, _words(code)) for code in eligibility.reasons],
            "blocks": [c for c in BLOCKABLE if getattr(player, f"blocked_{c}")],
            "holds": holds,
            "active_holds": active,
            "deposits": selectors.recent_deposits(player.pk),
            "instruments": selectors.payment_instruments(player.pk),
            "decisions": [(w, DECISION_LABELS[w]) for w in allowed if w != selectors.RELEASE],
            "may_release": selectors.RELEASE in allowed,
            "offers_approve": selectors.APPROVE in allowed,
            "pending_approval": pending,
            "i_approved_first": pending is not None and pending.maker_id == request.user.pk,
            "needs_second": withdrawal.status == WithdrawalStatus.PENDING
            and services.needs_second_approval(withdrawal),
            "closed": withdrawal.status not in services.OPEN,
            "reason_needed": (selectors.REJECT, selectors.HOLD, selectors.FAILED),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)
