"""The wallet app's error codes: one class per code (docs/ERRORS.md is generated from them).

Import only apps.core.errors here: services, views and forms of every layer import this module."""

from __future__ import annotations

from apps.core.errors import Conflict, NotFound, ValidationFailed


class AdjustmentNotPending(Conflict):
    code = "adjustment_not_pending"
    when = "decide an adjustment that is posted or rejected"


class AlreadyRolledBack(Conflict):
    code = "already_rolled_back"
    when = "the bet (or win) is already rolled back"


class CurrencyMismatch(ValidationFailed):
    code = "currency_mismatch"
    when = "the posting's currency is not the player's wallet currency"


class HoldReleased(Conflict):
    code = "hold_released"
    when = "the hold is already released"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    when = "the same key with another payload"


class IdempotencyKeyRequired(ValidationFailed):
    code = "idempotency_key_required"
    when = "a write without `Idempotency-Key`"


class RoundSettled(Conflict):
    code = "round_settled"
    when = "a bet whose round already has a win: roll the win back first"


class UnknownBet(NotFound):
    code = "unknown_bet"
    when = "a rollback of no bet of this client"


class UnknownRound(NotFound):
    code = "unknown_round"
    when = "a win for a round without a bet of this client"


class UnknownWin(NotFound):
    code = "unknown_win"
    when = "a win rollback of no win of this client"


class WithdrawalNotApproved(Conflict):
    code = "withdrawal_not_approved"
    when = "mark paid or failed before approval"


class WithdrawalNotFound(NotFound):
    code = "withdrawal_not_found"
    when = "no such withdrawal of this client for this player"


class WithdrawalNotOpen(Conflict):
    code = "withdrawal_not_open"
    when = "cancel, hold, release a hold or reject of a withdrawal that is no longer pending or approved"


class WithdrawalNotPending(Conflict):
    code = "withdrawal_not_pending"
    when = "approve of a withdrawal that is not pending"


class WithdrawalOnHold(Conflict):
    code = "withdrawal_on_hold"
    when = "approve or pay while a hold is active (a restriction of the player places one)"
