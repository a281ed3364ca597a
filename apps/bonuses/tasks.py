"""The bonus engine's Celery tasks. Thin callers."""

from __future__ import annotations

from celery import shared_task

from apps.core.tasks import AfterCommitTask


@shared_task(name="apps.bonuses.tasks.bonuses_process_due", base=AfterCommitTask)
def bonuses_process_due() -> dict[str, int]:
    """Every 15 seconds: convert the bonuses whose wagering is met, forfeit those a bet above the maximum voided,
    expire what ran out of time to wager or to claim."""
    from apps.bonuses.awards import bonuses_process_due as process

    return process()
