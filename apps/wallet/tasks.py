from __future__ import annotations

import structlog
from celery import shared_task

from apps.wallet import reconcile  # registers the reconciliation job kind in every worker process

log = structlog.get_logger(__name__)


@shared_task(name="apps.wallet.tasks.ledger_reconcile")
def ledger_reconcile() -> int:
    """Nightly: balances = sum of entries, transactions balanced, day rollups = the ledger, as a resumable job in
    short slices (apps/wallet/reconcile.py); differences are logged at ERROR, the counts land on the job's row.
    Returns the job's id (the running one if last night's is still going)."""
    from apps.core.jobs import job_start

    return job_start(kind=reconcile.KIND).pk


@shared_task(name="apps.wallet.tasks.ledger_partitions_extend", soft_time_limit=120, time_limit=150)
def ledger_partitions_extend() -> list[str]:
    """Daily: month partitions of the entries table three months ahead (nothing until it is partitioned).

    DDL: runs on the owner's connection (``MIGRATION_DATABASE_URL``), so the worker that takes it needs that URL."""
    from apps.wallet import partitioning

    created = partitioning.extend()
    if created:
        log.info("ledger_partitions_created", partitions=created)
    return created


@shared_task(name="apps.wallet.tasks.posting_events_drain", ignore_result=True, soft_time_limit=75, time_limit=90)
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
