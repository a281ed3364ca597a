"""Withdrawals and staff adjustments: the money movements that people decide on, each audited.

Withdrawal lifecycle: ``withdrawal_request`` (API; cash -> pending_withdrawal at once) -> ``withdrawal_approve``
(Finance; refused while a hold is active) -> ``withdrawal_settle`` (paid: pending -> payment clearing; failed:
funds back). ``withdrawal_reject`` (Finance) and ``withdrawal_cancel`` (the player, through the API) give the
funds back.

Maker-checker runs on apps.approvals (kinds ``wallet.withdrawal`` and ``wallet.adjustment``, registered below
when this module is imported, which WalletConfig.ready does): the first approver of a withdrawal is the maker;
from WITHDRAWAL_SECOND_APPROVAL_THRESHOLD (EUR, per currency by its rate), counting the player's withdrawals
approved by one person in the window, a second, different approver decides. A withdrawal is the player's
request, so its rolling total is the player's, whoever approved. An adjustment is the requester's: from
ADJUSTMENT_SECOND_APPROVAL_THRESHOLD, counting what the same staff member posted alone for the same player in
the window, it waits for a second person. Either decision can also be taken in the Approvals inbox; both paths
apply it here, in the decision's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.approvals import selectors as approvals_selectors
from apps.approvals import services as approvals
from apps.approvals.choices import ApprovalState, RollingScope
from apps.approvals.models import Approval
from apps.approvals.registry import ApprovalKind, register_kind
from apps.audit.services import AuditActor, audit_log
from apps.core.errors import ReasonRequired
from apps.core.money import parse_amount, quantize
from apps.players.choices import PROTECTED_AUTHORITIES
from apps.players.models import Player
from apps.players.services import authority_for, require_authority
from apps.players.validation import clean_staff_text
from apps.staff.models import StaffUser
from apps.wallet import posting
from apps.wallet.choices import AccountKind, AdjustmentStatus, TransactionType, WithdrawalStatus
from apps.wallet.errors import (
    AdjustmentNotPending,
    HoldReleased,
    WithdrawalNotApproved,
    WithdrawalNotFound,
    WithdrawalNotOpen,
    WithdrawalNotPending,
    WithdrawalOnHold,
)
from apps.wallet.models import Adjustment, LedgerTransaction, Withdrawal, WithdrawalHold

log = logging.getLogger(__name__)

OPEN = (WithdrawalStatus.PENDING, WithdrawalStatus.APPROVED)
HOLD_PLAYER_RESTRICTED = "player_restricted"
WITHDRAWAL_KIND = "wallet.withdrawal"
ADJUSTMENT_KIND = "wallet.adjustment"


def _reason(reason: str) -> str:
    reason = clean_staff_text("reason", reason or "", multiline=True).strip()
    if not reason:
        raise ReasonRequired("A reason is required.", fields={"reason": ["Required."]})
    return reason


def _locked(withdrawal: Withdrawal) -> Withdrawal:
    return Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)


def _move(withdrawal: Withdrawal, type: str, *, to_cash: bool) -> LedgerTransaction:
    """Pending -> cash (cancel, reject, failed) or pending -> payment clearing (paid)."""
    accounts = posting.lock_accounts(withdrawal.player_id, withdrawal.currency)
    amount = withdrawal.amount
    target = accounts.cash_id if to_cash else accounts.operator[AccountKind.PAYMENT_CLEARING]
    deltas = {accounts.pending_id: -amount, **({accounts.cash_id: amount} if to_cash else {})}
    return posting.write(
        accounts=accounts,
        type=type,
        amount=amount,
        legs=[(accounts.pending_id, -amount), (target, amount)],
        player_deltas=deltas,
        reference=f"withdrawal:{withdrawal.pk}",
    ).transaction


@transaction.atomic
def withdrawal_request(
    *,
    actor: AuditActor | None = None,
    player: Player,
    amount: Decimal,
    currency: str,
    api_client: str = "",
    reference: str = "",
    payment_method: str = "",
) -> Withdrawal:
    accounts = posting.lock_accounts(player, currency)
    posting.refuse_unless(player, "withdraw", amount=amount)
    if amount > accounts.cash:
        raise posting.InsufficientFunds(fields={"amount": [f"Withdrawable cash: {accounts.cash} {currency}."]})
    posting.write(
        accounts=accounts,
        type=TransactionType.WITHDRAWAL,
        amount=amount,
        legs=[(accounts.cash_id, -amount), (accounts.pending_id, amount)],
        player_deltas={accounts.cash_id: -amount, accounts.pending_id: amount},
        api_client=api_client,
        reference=reference,
        payment_method=payment_method,
    )
    withdrawal = Withdrawal.objects.create(
        player=player,
        currency=currency,
        amount=amount,
        api_client=api_client,
        reference=reference,
        payment_method=payment_method,
    )
    audit_log(
        actor=actor, action="withdrawal.requested", target=withdrawal, data={"amount": amount, "currency": currency}
    )
    return withdrawal


RefusalListener = Callable[..., None]
_refusal_listeners: list[RefusalListener] = []


def register_withdrawal_refused_listener(listener: RefusalListener) -> RefusalListener:
    """``listener(player=, reasons=)`` is told of a withdrawal request refused by eligibility, after the refusal
    was answered (outside its rolled-back transaction): apps.kyc raises the first-withdrawal requirement."""
    if listener not in _refusal_listeners:
        _refusal_listeners.append(listener)
    return listener


def withdrawal_refused(*, player: Player, reasons: list[str]) -> None:
    """Tell the listeners; each runs in its own transaction and a failing one is logged, never raised (the
    refusal was already answered)."""
    for listener in _refusal_listeners:
        try:
            with transaction.atomic():
                listener(player=player, reasons=reasons)
        except Exception:
            log.exception("a withdrawal-refused listener failed", extra={"listener": getattr(listener, "__name__", "")})


@transaction.atomic
def withdrawal_cancel(*, actor: AuditActor | None = None, withdrawal: Withdrawal, api_client: str) -> Withdrawal:
    """The player changed their mind: the funds go back to cash. Not once paid out. Only the API client that
    requested it may cancel it: any other gets the same 404 as for a withdrawal that does not exist."""
    withdrawal = _locked(withdrawal)
    if withdrawal.api_client != api_client:
        raise WithdrawalNotFound("No such withdrawal for this player.")
    if withdrawal.status not in OPEN:
        raise WithdrawalNotOpen(f"The withdrawal is {withdrawal.status}.")
    _move(withdrawal, TransactionType.WITHDRAWAL_CANCEL, to_cash=True)
    withdrawal.status, withdrawal.decided_at = WithdrawalStatus.CANCELLED, timezone.now()
    withdrawal.save(update_fields=["status", "decided_at"])
    approvals.approvals_close_for(actor=actor, target=withdrawal, reason="cancelled by the player")
    audit_log(actor=actor, action="withdrawal.cancelled", target=withdrawal)
    return withdrawal


@transaction.atomic
def withdrawal_place_hold(
    *, actor: StaffUser, withdrawal: Withdrawal, reason: str, kind: str = "manual", authority: str | None = None
) -> WithdrawalHold:
    """A hold on an open withdrawal, on the placer's authority: a compliance or responsible-gambling hold is
    released only by staff acting for that authority (an MLRO's source-of-funds hold is not Finance's to drop)."""
    reason = _reason(reason)
    used = authority_for(actor, authority)  # the placer's strongest authority unless named
    withdrawal = _locked(withdrawal)
    if withdrawal.status not in OPEN:
        raise WithdrawalNotOpen(f"The withdrawal is {withdrawal.status}.")
    hold = WithdrawalHold.objects.create(
        withdrawal=withdrawal, kind=kind, authority=used, reason=reason, placed_by=actor
    )
    audit_log(
        actor=actor,
        action="withdrawal.hold_placed",
        target=withdrawal,
        data={"kind": kind, "reason": reason, "authority": used},
    )
    return hold


@transaction.atomic
def withdrawal_release_hold(*, actor: StaffUser, hold: WithdrawalHold, reason: str) -> WithdrawalHold:
    reason = _reason(reason)
    hold = WithdrawalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise HoldReleased("This hold is already released.")
    status = Withdrawal.objects.values_list("status", flat=True).get(pk=hold.withdrawal_id)
    if status not in OPEN:  # a closed withdrawal's holds no longer stop anything: nothing to release
        raise WithdrawalNotOpen(f"The withdrawal is {status}.")
    if hold.authority in PROTECTED_AUTHORITIES:
        require_authority(actor, hold.authority)
    hold.released_by, hold.released_at, hold.release_reason = actor, timezone.now(), reason
    hold.save(update_fields=["released_by", "released_at", "release_reason"])
    audit_log(
        actor=actor, action="withdrawal.hold_released", target=hold.withdrawal, data={"hold": hold.pk, "reason": reason}
    )
    return hold


def withdrawals_hold_for_restriction(
    *,
    actor: AuditActor | None,
    player: Player,
    what: str,
    reason: str,
    visibility: str = "general",
    authority: str = "support",
) -> int:
    """A suspension, block or closure (or a withdrawal block) stops the player's open withdrawals: each gets a
    hold with that reason, in the same transaction. A compliance reason is not copied: Finance reads holds.
    Registered with apps.players (restriction hooks)."""
    from apps.core.visibility import COMPLIANCE

    staff = actor if isinstance(actor, StaffUser) else None
    shown = "compliance review (see the player page)" if visibility == COMPLIANCE else reason
    held = 0
    for withdrawal in Withdrawal.objects.select_for_update().filter(player_id=player.pk, status__in=OPEN):
        text = f"{what}: {shown}"[:500]
        WithdrawalHold.objects.create(
            withdrawal=withdrawal, kind=HOLD_PLAYER_RESTRICTED, authority=authority, reason=text, placed_by=staff
        )
        audit_log(
            actor=actor,
            action="withdrawal.hold_placed",
            target=withdrawal,
            data={"kind": HOLD_PLAYER_RESTRICTED, "reason": text, "authority": authority},
        )
        held += 1
    return held


def _recheck_player(withdrawal: Withdrawal) -> None:
    """The decision re-checks the world now: the player must still be allowed to withdraw this amount. The
    caller has locked the player's row first (as status changes do), so no restriction lands in between."""
    posting.refuse_unless(withdrawal.player_id, "withdraw", amount=withdrawal.amount)


def needs_second_approval(withdrawal: Withdrawal) -> bool:
    """Whether this withdrawal needs (or needed) a second approver: from its approval, or, before the first
    approval, as it would be decided now (no lock: for the screens)."""
    latest = approvals_selectors.for_target(withdrawal, kind=WITHDRAWAL_KIND).order_by("-id").first()
    if latest is not None and latest.state != ApprovalState.CANCELLED:
        return latest.state != ApprovalState.BELOW_THRESHOLD
    needed, _ = approvals.needs_checker(
        WITHDRAWAL_APPROVAL,
        maker=None,
        player_id=withdrawal.player_id,
        amount=withdrawal.amount,
        currency=withdrawal.currency,
        now=timezone.now(),
        lock=False,
    )
    return needed


def _refuse_unless_approvable(withdrawal: Withdrawal) -> Withdrawal:
    """The player's row first (as status changes do), then the withdrawal: pending, no active hold, and
    ``can(player, "withdraw")`` still allows it (a block or suspension placed since the request refuses)."""
    Player.objects.select_for_update().only("id").get(pk=withdrawal.player_id)
    withdrawal = _locked(withdrawal)
    if withdrawal.status != WithdrawalStatus.PENDING:
        raise WithdrawalNotPending(f"The withdrawal is {withdrawal.status}.")
    if withdrawal.holds.filter(released_at__isnull=True).exists():
        raise WithdrawalOnHold("The withdrawal has an active hold.")
    _recheck_player(withdrawal)
    return withdrawal


@transaction.atomic
def withdrawal_approve(*, actor: StaffUser, withdrawal: Withdrawal, reason: str = "") -> Withdrawal:
    """Approve. The first approval asks apps.approvals: below the threshold it approves at once; above, it waits
    for a second, different approver, who approves here or in the Approvals inbox (the same decision). Refused
    while a hold is active or while ``can(player, "withdraw")`` refuses, at each step."""
    withdrawal = _refuse_unless_approvable(withdrawal)
    pending = approvals_selectors.pending_for(withdrawal, kind=WITHDRAWAL_KIND)
    if pending is not None:
        approvals.approval_decide(actor=actor, approval=pending, approve=True, reason=reason)
    else:
        withdrawal.first_approver, withdrawal.second_approver = actor, None
        withdrawal.save(update_fields=["first_approver", "second_approver"])
        approval = approvals.approval_request(
            actor=actor,
            kind=WITHDRAWAL_KIND,
            target=withdrawal,
            reason=reason or "first approval of the withdrawal",
            payload={"withdrawal": withdrawal.pk},
            amount=withdrawal.amount,
            currency=withdrawal.currency,
            player_id=withdrawal.player_id,
        )
        if approval.state == ApprovalState.PENDING:
            audit_log(actor=actor, action="withdrawal.first_approval", target=withdrawal)
    withdrawal.refresh_from_db()
    return withdrawal


def _apply_withdrawal_approval(approval: Approval, actor: StaffUser) -> None:
    """The approvals kind's ``apply``: the world is checked again now, then the withdrawal is approved."""
    withdrawal = _refuse_unless_approvable(Withdrawal.objects.get(pk=int(approval.target_id)))
    withdrawal.second_approver = approval.checker  # none below the threshold
    withdrawal.status, withdrawal.decided_at = WithdrawalStatus.APPROVED, timezone.now()
    withdrawal.save(update_fields=["second_approver", "status", "decided_at"])
    audit_log(
        actor=actor,
        action="withdrawal.approved",
        target=withdrawal,
        data={"amount": withdrawal.amount, "currency": withdrawal.currency, "approval": approval.pk},
    )


def _reject(actor: StaffUser, withdrawal: Withdrawal, reason: str) -> Withdrawal:
    withdrawal = _locked(withdrawal)
    if withdrawal.status not in OPEN:
        raise WithdrawalNotOpen(f"The withdrawal is {withdrawal.status}.")
    _move(withdrawal, TransactionType.WITHDRAWAL_CANCEL, to_cash=True)
    withdrawal.status, withdrawal.decided_at, withdrawal.decision_reason = (
        WithdrawalStatus.REJECTED,
        timezone.now(),
        reason,
    )
    withdrawal.save(update_fields=["status", "decided_at", "decision_reason"])
    audit_log(actor=actor, action="withdrawal.rejected", target=withdrawal, data={"reason": reason})
    return withdrawal


def _reject_from_approval(approval: Approval, actor: StaffUser) -> None:
    """The approvals kind's ``on_reject``: the second approver refuses the payout, so the funds go back."""
    _reject(actor, Withdrawal.objects.get(pk=int(approval.target_id)), approval.decision_reason)


@transaction.atomic
def withdrawal_reject(*, actor: StaffUser, withdrawal: Withdrawal, reason: str) -> Withdrawal:
    """Funds back to the player. Waiting for a second approver, another staff member's rejection is that
    decision (recorded on the approval); the first approver's own rejection withdraws their approval."""
    reason = _reason(reason)
    pending = approvals_selectors.pending_for(withdrawal, kind=WITHDRAWAL_KIND)
    if pending is not None and pending.maker_id != actor.pk:
        approvals.approval_decide(actor=actor, approval=pending, approve=False, reason=reason)
        withdrawal.refresh_from_db()
        return withdrawal
    withdrawal = _reject(actor, withdrawal, reason)
    approvals.approvals_close_for(actor=actor, target=withdrawal, reason=f"rejected by the first approver: {reason}")
    return withdrawal


@transaction.atomic
def withdrawal_settle(*, actor: StaffUser, withdrawal: Withdrawal, paid: bool, reason: str = "") -> Withdrawal:
    """The payment provider paid (funds leave to clearing) or failed (funds back to cash). Paying re-checks the
    player (holds and ``can(player, "withdraw")``); a failure always gives the funds back."""
    Player.objects.select_for_update().only("id").get(pk=withdrawal.player_id)
    withdrawal = _locked(withdrawal)
    if withdrawal.status != WithdrawalStatus.APPROVED:
        raise WithdrawalNotApproved(f"The withdrawal is {withdrawal.status}.")
    if paid:
        if withdrawal.holds.filter(released_at__isnull=True).exists():
            raise WithdrawalOnHold("The withdrawal has an active hold.")
        _recheck_player(withdrawal)
    if not paid:
        reason = _reason(reason)
    _move(withdrawal, TransactionType.WITHDRAWAL_PAID if paid else TransactionType.WITHDRAWAL_CANCEL, to_cash=not paid)
    withdrawal.status = WithdrawalStatus.PAID if paid else WithdrawalStatus.FAILED
    withdrawal.decision_reason = reason
    withdrawal.save(update_fields=["status", "decision_reason"])
    audit_log(actor=actor, action=f"withdrawal.{withdrawal.status}", target=withdrawal, data={"reason": reason})
    return withdrawal


# --- adjustments -----------------------------------------------------------------------------------------


def _post_adjustment(adjustment: Adjustment) -> LedgerTransaction:
    player, amount, currency = adjustment.player, adjustment.amount, adjustment.currency
    accounts = posting.lock_accounts(player, currency)
    if amount < 0 and -amount > accounts.cash:
        raise posting.InsufficientFunds(fields={"amount": [f"Cash is {accounts.cash} {currency}."]})
    operator = accounts.operator[AccountKind.ADJUSTMENTS]
    return posting.write(
        accounts=accounts,
        type=TransactionType.ADJUSTMENT,
        amount=abs(amount),
        legs=[(operator, -amount), (accounts.cash_id, amount)],
        player_deltas={accounts.cash_id: amount},
        staff_actor=adjustment.requested_by.username,
        reason=adjustment.reason,
        reference=f"adjustment:{adjustment.pk}",
    ).transaction


def _adjustment_apply(approval: Approval, actor: StaffUser) -> None:
    """The approvals kind's ``apply``: post it (below the threshold at once, else on the checker's approval)."""
    adjustment = Adjustment.objects.select_for_update().get(pk=int(approval.target_id))
    if adjustment.status != AdjustmentStatus.PENDING:
        raise AdjustmentNotPending(f"The adjustment is {adjustment.status}.")
    adjustment.posted = _post_adjustment(adjustment)
    adjustment.status, adjustment.decided_at = AdjustmentStatus.POSTED, timezone.now()
    adjustment.approved_by, adjustment.decision_reason = approval.checker, approval.decision_reason
    adjustment.save(update_fields=["approved_by", "decided_at", "posted", "status", "decision_reason"])
    if approval.checker_id is not None:
        audit_log(
            actor=actor,
            action="adjustment.approved",
            target=adjustment.player,
            data={"adjustment": adjustment.pk, "reason": approval.decision_reason, "approval": approval.pk},
        )


def _adjustment_reject(approval: Approval, actor: StaffUser) -> None:
    adjustment = Adjustment.objects.select_for_update().get(pk=int(approval.target_id))
    if adjustment.status != AdjustmentStatus.PENDING:
        raise AdjustmentNotPending(f"The adjustment is {adjustment.status}.")
    adjustment.status, adjustment.decided_at = AdjustmentStatus.REJECTED, timezone.now()
    adjustment.approved_by = approval.checker
    adjustment.decision_reason = approval.decision_reason  # kept: the requester and an auditor read why
    adjustment.save(update_fields=["approved_by", "decided_at", "status", "decision_reason"])
    audit_log(
        actor=actor,
        action="adjustment.rejected",
        target=adjustment.player,
        data={"adjustment": adjustment.pk, "reason": approval.decision_reason, "approval": approval.pk},
    )


def adjustment_check(*, player: Player, amount: str | Decimal, lock: bool = False) -> Decimal:
    """The signed amount of an adjustment, or the refusal its request would meet: not a decimal in the player's
    currency (``amount_invalid``), or a debit beyond the player's cash (``insufficient_funds``), refused at the
    request rather than at the second approval (which checks again: cash may have moved). ``lock`` (the request
    itself) locks the player's accounts; a form checking ahead reads without a lock."""
    text = str(amount).strip().replace("\u2212", "-")  # the minus sign staff copy from the screens
    sign = -1 if text.startswith("-") else 1
    value = sign * parse_amount(text.lstrip("+-"), player.currency)
    if value < 0:
        if lock:
            cash = posting.lock_accounts(player, player.currency).cash
        else:
            cash = Decimal(posting.balances(player.pk, player.currency).get("cash") or "0")
        cash = quantize(cash, player.currency)
        if -value > cash:
            raise posting.InsufficientFunds(
                f"A debit of {-value} {player.currency} is more than the player's cash ({cash} {player.currency}).",
                fields={"amount": [f"Cash is {cash} {player.currency}: a debit cannot exceed it."]},
            )
    return value


@transaction.atomic
def adjustment_request(*, actor: StaffUser, player: Player, amount: str | Decimal, reason: str) -> Adjustment:
    """Credit (+) or debit (-) a player's cash. Below the threshold (with what this staff member posted alone
    for this player in the window) it posts at once; from it, it waits for a second staff member
    (``adjustment_decide`` or the Approvals inbox)."""
    reason = _reason(reason)
    value = adjustment_check(player=player, amount=amount, lock=True)
    adjustment = Adjustment.objects.create(
        player=player, currency=player.currency, amount=value, reason=reason, requested_by=actor
    )
    audit_log(
        actor=actor,
        action="adjustment.requested",
        target=player,
        data={"adjustment": adjustment.pk, "amount": value, "currency": player.currency, "reason": reason},
    )
    approvals.approval_request(
        actor=actor,
        kind=ADJUSTMENT_KIND,
        target=adjustment,
        reason=reason,
        payload={"adjustment": adjustment.pk, "amount": value, "currency": player.currency},
        amount=value,
        currency=player.currency,
        player_id=player.pk,
    )
    adjustment.refresh_from_db()
    return adjustment


@transaction.atomic
def adjustment_decide(*, actor: StaffUser, adjustment: Adjustment, approve: bool, reason: str = "") -> Adjustment:
    """The second staff member's decision (the same one the Approvals inbox takes): approve posts it, reject
    (with a reason) refuses it. Never the requester."""
    adjustment = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
    pending = approvals_selectors.pending_for(adjustment, kind=ADJUSTMENT_KIND)
    if adjustment.status != AdjustmentStatus.PENDING or pending is None:
        raise AdjustmentNotPending(f"The adjustment is {adjustment.status}.")
    approvals.approval_decide(actor=actor, approval=pending, approve=approve, reason=reason)
    adjustment.refresh_from_db()
    return adjustment


def _withdrawal_expire(approval: Approval, actor: AuditActor) -> None:
    """Nobody gave the second approval in time: the first one is withdrawn and the withdrawal is back in the
    queue, pending, its funds still set aside (the player can still cancel it)."""
    withdrawal = _locked(Withdrawal.objects.get(pk=int(approval.target_id)))
    if withdrawal.status != WithdrawalStatus.PENDING:
        raise WithdrawalNotPending(f"The withdrawal is {withdrawal.status}.")
    withdrawal.first_approver = None
    withdrawal.save(update_fields=["first_approver"])
    audit_log(
        actor=actor, action="withdrawal.first_approval_expired", target=withdrawal, data={"approval": approval.pk}
    )


def _adjustment_expire(approval: Approval, actor: AuditActor) -> None:
    adjustment = Adjustment.objects.select_for_update().get(pk=int(approval.target_id))
    if adjustment.status != AdjustmentStatus.PENDING:
        raise AdjustmentNotPending(f"The adjustment is {adjustment.status}.")
    adjustment.status, adjustment.decided_at = AdjustmentStatus.REJECTED, timezone.now()
    adjustment.decision_reason = f"expired: {approval.decision_reason}"
    adjustment.save(update_fields=["decided_at", "status", "decision_reason"])
    audit_log(
        actor=actor,
        action="adjustment.expired",
        target=adjustment.player,
        data={"adjustment": adjustment.pk, "approval": approval.pk},
    )


WITHDRAWAL_APPROVAL = ApprovalKind(
    code=WITHDRAWAL_KIND,
    label="Withdrawal (second approver)",
    request_permission="wallet.approve_withdrawal",
    decide_permission="wallet.approve_withdrawal",
    apply=_apply_withdrawal_approval,
    on_reject=_reject_from_approval,
    threshold_setting="WITHDRAWAL_SECOND_APPROVAL_THRESHOLD",
    rolling_scope=RollingScope.PLAYER,
    on_expire=_withdrawal_expire,
)
ADJUSTMENT_APPROVAL = ApprovalKind(
    code=ADJUSTMENT_KIND,
    label="Manual adjustment",
    request_permission="wallet.add_adjustment",
    decide_permission="wallet.approve_adjustment",
    apply=_adjustment_apply,
    on_reject=_adjustment_reject,
    threshold_setting="ADJUSTMENT_SECOND_APPROVAL_THRESHOLD",
    rolling_scope=RollingScope.MAKER_AND_PLAYER,
    on_expire=_adjustment_expire,
)
register_kind(WITHDRAWAL_APPROVAL)
register_kind(ADJUSTMENT_APPROVAL)
