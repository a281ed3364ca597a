"""The screening app's Celery tasks (the compliance queue). Thin callers."""

from __future__ import annotations

from celery import shared_task

from apps.core.tasks import AfterCommitTask


@shared_task(name="apps.screening.tasks.rescreen_pending", base=AfterCommitTask)
def rescreen_pending() -> int | None:
    """Every 15 minutes: start the re-screen if a list snapshot still waits for it (returns the job's id)."""
    from apps.screening.rescreen_job import rescreen_start

    job = rescreen_start()
    return job.pk if job is not None else None
