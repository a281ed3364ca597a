"""The reports' Celery tasks, on the ``reports`` queue (CELERY_TASK_ROUTES): thin, the work is in apps.reports.runs,
apps.reports.schedules and apps.reports.rollups."""

from __future__ import annotations

from typing import Any

import structlog
from celery import shared_task

from apps.core.tasks import AfterCommitTask

log = structlog.get_logger(__name__)


@shared_task(name="apps.reports.tasks.operator_day_drain", ignore_result=True, soft_time_limit=75, time_limit=90)
def operator_day_drain(budget_seconds: float = 50.0) -> dict[str, int]:
    """Add the queued postings to the operator day rollups (``apps/reports/rollups.py``), a batch of thousands per
    transaction, until it has caught up or ``budget_seconds`` pass. Any number may run at once (rows are claimed with
    SKIP LOCKED); postings nudge one at most once a second per process and the beat sweeps every 5 seconds."""
    from apps.reports import rollups

    result = rollups.drain(budget_seconds=budget_seconds)
    if result.processed or result.failed_players:
        log.info(
            "operator_day_drained", processed=result.processed, batches=result.players, failed=result.failed_players
        )
    return {"processed": result.processed, "batches": result.players, "failed": result.failed_players}


@shared_task(name="apps.reports.tasks.dashboard_refresh", ignore_result=True, soft_time_limit=50, time_limit=60)
def dashboard_refresh() -> int:
    """The start page's dashboard asks for it when the open days' money is a minute old (at most once a minute):
    yesterday's, today's and tomorrow's figures read again from the operator day rollups into the cache
    (apps.reports.dashboard.refresh_open_days), so no page waits for that read. Idempotent: a second run reads the
    same rows again."""
    from apps.reports import dashboard

    return dashboard.refresh_open_days()


@shared_task(
    name="apps.reports.tasks.report_execute",
    base=AfterCommitTask,
    acks_late=True,
    soft_time_limit=180,
    time_limit=190,
)
def report_execute(run_id: int) -> dict[str, Any]:
    """Run one queued run (apps.reports.runs.run_execute). A redelivery (acks_late: the worker died) finds it
    claimed or finished and does nothing; ``runs_resume_stalled`` sends it again when its heartbeat stopped."""
    from apps.reports.runs import run_execute

    run = run_execute(run_id)
    return {"run": run_id, "state": None if run is None else run.state}


@shared_task(name="apps.reports.tasks.report_scheduled", base=AfterCommitTask)
def report_scheduled(report: str, format: str = "csv", params: dict[str, str] | None = None, schedule: str = "") -> int:
    """A beat entry fired: ask for the run (parameters left out take their defaults now: the previous month)."""
    from django.utils import timezone

    from apps.reports.runs import run_request
    from apps.reports.schedules import with_periods
    from apps.reports.types import report_type

    kind = report_type(report)
    given = dict(params or {})
    if kind is not None:
        given = with_periods(kind, given, timezone.localdate())
    run = run_request(actor=None, report=report, params=given, format=format, source="schedule", schedule=schedule)
    return run.pk


@shared_task(name="apps.reports.tasks.reports_resume_stalled", base=AfterCommitTask)
def reports_resume_stalled() -> list[int]:
    from apps.reports.runs import runs_resume_stalled

    return runs_resume_stalled()


@shared_task(name="apps.reports.tasks.reports_catch_up", base=AfterCommitTask)
def reports_catch_up() -> list[int]:
    from apps.reports.schedules import catch_up

    return catch_up()


@shared_task(name="apps.reports.tasks.reports_close_months", base=AfterCommitTask, soft_time_limit=170, time_limit=190)
def reports_close_months(limit: int = 3, budget_seconds: float = 90.0) -> list[str]:
    """Every 15 minutes: the month-end closes that are due (the month's last day over on every clock), at most
    ``limit`` per run and none begun after ``budget_seconds``; the days closed."""
    from apps.reports.closes import close_due

    return [day.isoformat() for day in close_due(limit=limit, budget_seconds=budget_seconds)]


@shared_task(name="apps.reports.tasks.reports_purge_expired", base=AfterCommitTask)
def reports_purge_expired() -> int:
    from apps.reports.runs import runs_purge_expired

    return runs_purge_expired()


@shared_task(
    name="apps.reports.tasks.reports_rollups_verify", base=AfterCommitTask, soft_time_limit=150, time_limit=170
)
def reports_rollups_verify(days: int = 3) -> int:
    """Nightly: the operator day rollups of the last ``days`` local days against the ledger, to the cent (what
    ``manage.py reports_rollups_check`` does); every difference is logged as an error for the operator to rebuild
    (``reports_rollups_check --rebuild``). How many differences."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.reports import rollups

    start = timezone.localdate() - timedelta(days=days)
    mismatches = rollups.check(start=start)
    for mismatch in mismatches[:50]:
        log.error("operator_day_mismatch", mismatch=str(mismatch))
    if not mismatches:
        log.info("operator_day_verified", since=start.isoformat())
    return len(mismatches)
