from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection


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
