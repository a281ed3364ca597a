from __future__ import annotations

import structlog
from celery import shared_task

from apps.wallet.selectors import ledger_mismatches, unbalanced_transactions

log = structlog.get_logger(__name__)


@shared_task(name="apps.wallet.tasks.ledger_reconcile")
def ledger_reconcile() -> dict[str, int]:
    """Nightly: balances = sum of entries, transactions balanced, day rollups = the ledger. Differences are logged
    at ERROR."""
    from apps.wallet.rollups import mismatches as rollup_mismatches

    mismatches, unbalanced, days = ledger_mismatches(), unbalanced_transactions(), rollup_mismatches()
    for m in mismatches:
        log.error("ledger_balance_mismatch", account_id=m.account_id, stored=str(m.stored), entries=str(m.from_entries))
    for txn in unbalanced:
        log.error("ledger_transaction_unbalanced", transaction_id=txn)
    for d in days:
        log.error(
            "ledger_rollup_mismatch",
            player_id=d.player_id,
            day=str(d.day),
            column=d.column,
            stored=str(d.stored),
            ledger=str(d.from_ledger),
        )
    return {
        "mismatched_accounts": len(mismatches),
        "unbalanced_transactions": len(unbalanced),
        "mismatched_rollups": len(days),
    }


@shared_task(name="apps.wallet.tasks.ledger_partitions_extend")
def ledger_partitions_extend() -> list[str]:
    """Daily: month partitions of the entries table three months ahead (nothing until it is partitioned).

    DDL: runs on the owner's connection (``MIGRATION_DATABASE_URL``), so the worker that takes it needs that URL."""
    from apps.wallet import partitioning

    created = partitioning.extend()
    if created:
        log.info("ledger_partitions_created", partitions=created)
    return created


@shared_task(name="apps.wallet.tasks.posting_events_drain", ignore_result=True)
def posting_events_drain(budget_seconds: float = 50.0) -> dict[str, int]:
    """Hand queued posting events to their durable consumers (``apps/wallet/events.py``) until none is left or
    ``budget_seconds`` pass. Any number may run at once (players are claimed with SKIP LOCKED); the beat runs one
    every 5 seconds and postings nudge one at most once a second per process."""
    from apps.wallet import events

    result = events.drain(budget_seconds=budget_seconds)
    if result.processed or result.failed_players:
        log.info(
            "posting_events_drained",
            processed=result.processed,
            players=result.players,
            failed_players=result.failed_players,
        )
    return {"processed": result.processed, "players": result.players, "failed_players": result.failed_players}
