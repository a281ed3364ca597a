from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Sum

from apps.wallet.choices import TransactionType
from apps.wallet.models import LedgerTransaction, Withdrawal


@dataclass(frozen=True)
class BalanceMismatch:
    account_id: int
    stored: Decimal
    from_entries: Decimal


def ledger_mismatches(*, limit: int = 100) -> list[BalanceMismatch]:
    """Player accounts whose stored balance differs from the sum of their entries (one aggregate query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, a.balance, coalesce(e.total, 0)
            FROM wallet_account a
            LEFT JOIN (SELECT account_id, sum(amount) AS total FROM wallet_entry GROUP BY account_id) e
                   ON e.account_id = a.id
            WHERE a.player_id IS NOT NULL AND a.balance <> coalesce(e.total, 0)
            ORDER BY a.id LIMIT %s
            """,
            [limit],
        )
        return [BalanceMismatch(*row) for row in cursor.fetchall()]


def unbalanced_transactions(*, limit: int = 100) -> list[int]:
    """Transactions whose entries do not sum to zero per currency (the trigger should make this empty)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT transaction_id FROM wallet_entry GROUP BY transaction_id, currency HAVING sum(amount) <> 0 "
            "ORDER BY transaction_id LIMIT %s",
            [limit],
        )
        return [row[0] for row in cursor.fetchall()]


# --- the withdrawal page: what Finance reads before deciding -----------------------------------------------

# The decisions a withdrawal can take in each state (the services refuse any other; this only says what to offer).
APPROVE, REJECT, HOLD, RELEASE, PAID, FAILED = "approve", "reject", "hold", "release", "paid", "failed"
DECISIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "pending": (APPROVE, REJECT, HOLD, RELEASE),
    "approved": (PAID, FAILED, REJECT, HOLD, RELEASE),
}


def withdrawal_decisions(
    withdrawal: Withdrawal, *, active_holds: int, first_approver_id: int | None, viewer_id: int | None
) -> list[str]:
    """The decisions that fit the withdrawal's state now: none once it is paid, rejected, failed or cancelled;
    no approval or payment while a hold is active; no approval by the person who gave the first one; a release
    only when there is a hold to release."""
    offered = []
    for what in DECISIONS_BY_STATUS.get(withdrawal.status, ()):
        if what in (APPROVE, PAID) and active_holds:
            continue
        if what == APPROVE and first_approver_id is not None and first_approver_id == viewer_id:
            continue
        if what == RELEASE and not active_holds:
            continue
        offered.append(what)
    return offered


def recent_deposits(player_id: int, *, limit: int = 10) -> list[LedgerTransaction]:
    """The player's latest deposits (the (player, -id) index; no scan of the player's whole history)."""
    return list(
        LedgerTransaction.objects.filter(player_id=player_id, type=TransactionType.DEPOSIT).order_by("-id")[:limit]
    )


def payment_instruments(player_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
    """Each payment method and instrument the player paid in or out with: how often, how much, and when last."""
    rows = (
        LedgerTransaction.objects.filter(
            player_id=player_id, type__in=(TransactionType.DEPOSIT, TransactionType.WITHDRAWAL)
        )
        .exclude(payment_method="", instrument_fingerprint="")
        .values("type", "payment_method", "instrument_fingerprint", "currency")
        .annotate(times=Count("id"), total=Sum("amount"), last=Max("created_at"))
        .order_by("-last")[:limit]
    )
    return [dict(row) for row in rows]
