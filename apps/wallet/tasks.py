from __future__ import annotations

import structlog
from celery import shared_task

from apps.wallet.selectors import ledger_mismatches, unbalanced_transactions

log = structlog.get_logger(__name__)


@shared_task(name="apps.wallet.tasks.ledger_reconcile")
def ledger_reconcile() -> dict[str, int]:
    """Nightly: balances = sum of entries, transactions balanced. Differences are logged at ERROR."""
    mismatches, unbalanced = ledger_mismatches(), unbalanced_transactions()
    for m in mismatches:
        log.error("ledger_balance_mismatch", account_id=m.account_id, stored=str(m.stored), entries=str(m.from_entries))
    for txn in unbalanced:
        log.error("ledger_transaction_unbalanced", transaction_id=txn)
    return {"mismatched_accounts": len(mismatches), "unbalanced_transactions": len(unbalanced)}


@shared_task(name="apps.wallet.tasks.ledger_partitions_extend")
def ledger_partitions_extend() -> list[str]:
    """Daily: month partitions of the entries table three months ahead (nothing until it is partitioned).

    DDL: runs on the owner's connection (``MIGRATION_DATABASE_URL``), so the worker that takes it needs that URL."""
    from apps.wallet import partitioning

    created = partitioning.extend()
    if created:
        log.info("ledger_partitions_created", partitions=created)
    return created
