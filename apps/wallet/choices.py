from django.db import models


class AccountKind(models.TextChoices):
    # per player and currency
    CASH = "cash", "Cash"
    BONUS = "bonus", "Bonus"
    PENDING_WITHDRAWAL = "pending_withdrawal", "Pending withdrawal"
    # per currency, the operator's side: balances derived by aggregation, never locked on the bet path
    HOUSE = "house", "House"
    PAYMENT_CLEARING = "payment_clearing", "Payment clearing"
    BONUS_COST = "bonus_cost", "Bonus cost"
    ADJUSTMENTS = "adjustments", "Adjustments"


PLAYER_KINDS = (AccountKind.CASH, AccountKind.BONUS, AccountKind.PENDING_WITHDRAWAL)
OPERATOR_KINDS = (AccountKind.HOUSE, AccountKind.PAYMENT_CLEARING, AccountKind.BONUS_COST, AccountKind.ADJUSTMENTS)


class TransactionType(models.TextChoices):
    DEPOSIT = "deposit", "Deposit"
    BET = "bet", "Bet"
    WIN = "win", "Win"
    ROLLBACK = "rollback", "Rollback of a bet"
    WIN_ROLLBACK = "win_rollback", "Rollback of a win"
    WITHDRAWAL = "withdrawal", "Withdrawal request"
    WITHDRAWAL_CANCEL = "withdrawal_cancel", "Withdrawal cancelled or rejected"
    WITHDRAWAL_PAID = "withdrawal_paid", "Withdrawal paid"
    BONUS_AWARD = "bonus_award", "Bonus award"
    BONUS_CONVERT = "bonus_convert", "Bonus conversion"
    BONUS_FORFEIT = "bonus_forfeit", "Bonus forfeit"
    ADJUSTMENT = "adjustment", "Adjustment"


class WithdrawalStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved, awaiting payout"
    PAID = "paid", "Paid"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Payout failed"
    CANCELLED = "cancelled", "Cancelled by the player"


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", "Awaiting a second approver"
    POSTED = "posted", "Posted"
    REJECTED = "rejected", "Rejected"
