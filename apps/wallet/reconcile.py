"""The nightly reconciliation as a resumable job (apps/core/jobs.py): short slices over account and transaction ids.

Phases, each resumable from ``cursor``: ``balances`` (player balances = the sum of their entries, a range of
accounts per query), ``transactions`` (every transaction's entries sum to zero per currency, a range of transaction
ids per query), ``rollups`` (day rollups = the ledger, ``rollups.mismatches`` in one slice). Read-only: a slice run
twice finds the same. Differences are logged at ERROR as they are found (a re-run slice logs them again).
"""

from __future__ import annotations

from typing import Any

import structlog
from django.db import connection

from apps.core.jobs import JobSlice, register_job

log = structlog.get_logger(__name__)

KIND = "wallet.ledger_reconcile"
ACCOUNTS_PER_QUERY = 5000
TRANSACTIONS_PER_QUERY = 20000


def _balances(after: int, up_to: int) -> list[tuple[int, Any, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, a.balance, coalesce(e.total, 0)
            FROM wallet_account a
            LEFT JOIN (SELECT account_id, sum(amount) AS total FROM wallet_entry
                       WHERE account_id > %s AND account_id <= %s GROUP BY account_id) e ON e.account_id = a.id
            WHERE a.player_id IS NOT NULL AND a.id > %s AND a.id <= %s AND a.balance <> coalesce(e.total, 0)
            ORDER BY a.id
            """,
            [after, up_to, after, up_to],
        )
        return list(cursor.fetchall())


def _unbalanced(after: int, up_to: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT transaction_id FROM wallet_entry WHERE transaction_id > %s AND transaction_id <= %s "
            "GROUP BY transaction_id, currency HAVING sum(amount) <> 0 ORDER BY transaction_id",
            [after, up_to],
        )
        return [row[0] for row in cursor.fetchall()]


def _max_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 (a fixed table name)
        return int(cursor.fetchone()[0])


def step(job: JobSlice) -> None:
    cursor, result = job.cursor, job.result
    for key in ("mismatched_accounts", "unbalanced_transactions", "mismatched_rollups"):
        result.setdefault(key, 0)
    phase = cursor.setdefault("phase", "balances")
    if phase == "balances":
        last = cursor.setdefault("last_account", _max_id("wallet_account"))  # accounts opened later: next night
        while cursor.get("after", 0) < last:
            after = cursor.get("after", 0)
            up_to = min(last, after + ACCOUNTS_PER_QUERY)
            for account_id, stored, entries in _balances(after, up_to):
                log.error("ledger_balance_mismatch", account_id=account_id, stored=str(stored), entries=str(entries))
                result["mismatched_accounts"] += 1
            cursor["after"] = up_to
            if job.out_of_time():
                return
        cursor.update(phase="transactions", after=0)
        phase = "transactions"
    if phase == "transactions":
        last = cursor.setdefault("last_transaction", _max_id("wallet_transaction"))
        while cursor.get("after", 0) < last:
            after = cursor.get("after", 0)
            up_to = min(last, after + TRANSACTIONS_PER_QUERY)
            for txn in _unbalanced(after, up_to):
                log.error("ledger_transaction_unbalanced", transaction_id=txn)
                result["unbalanced_transactions"] += 1
            cursor["after"] = up_to
            if job.out_of_time():
                return
        cursor.update(phase="rollups", after=0)
        return  # the rollups get a slice of their own
    from apps.wallet.rollups import mismatches

    for d in mismatches():
        log.error(
            "ledger_rollup_mismatch",
            player_id=d.player_id,
            day=str(d.day),
            column=d.column,
            stored=str(d.stored),
            ledger=str(d.from_ledger),
        )
        result["mismatched_rollups"] += 1
    job.finish()


register_job(KIND, step, slice_seconds=30.0)
