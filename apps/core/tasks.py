"""The task base class every Pitboss task uses, and the core housekeeping tasks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from celery.result import AsyncResult
from celery.utils import uuid
from django.db import transaction

from apps.core import context


class AfterCommitTask(Task):  # type: ignore[misc]
    """Enqueues only after the surrounding database transaction commits.

    Inside ``transaction.atomic()`` a task sent with ``delay``/``apply_async`` is handed to the broker by
    ``transaction.on_commit``: a task never runs against rows its sender later rolled back, and never runs
    before they are visible. Outside a transaction it is sent at once. The task id is chosen up front, so the
    caller still gets an ``AsyncResult`` it can follow.

    While it runs, the task id is the "request id" of any audit event or log line it writes.
    """

    abstract = True

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> AsyncResult:
        connection = transaction.get_connection()
        if not connection.in_atomic_block:
            return super().apply_async(args, kwargs, **options)
        task_id = options.setdefault("task_id", uuid())
        # robust: the caller's work is committed by then; a broker that cannot take the task must not turn that
        # into an error page (a 500 after the commit). Django logs the failure (django.db.backends.base); the
        # campaigns' and the jobs' sweeps find their work undone and queue it again, a task without a sweep (a
        # SAR's export) has to be asked for again.
        transaction.on_commit(lambda: super(AfterCommitTask, self).apply_async(args, kwargs, **options), robust=True)
        return self.AsyncResult(task_id)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = getattr(self.request, "id", None)
        with context.bound(request_id=f"task:{task_id}" if task_id else None):
            return super().__call__(*args, **kwargs)


def task_limit_problems(app: Any) -> list[str]:
    """What makes a registered task unbounded, or longer than the broker's visibility timeout (then Redis would
    hand it to a second worker while the first still runs it). Empty when every task is fine."""
    app.loader.import_default_modules()  # every app's tasks module, as a worker imports them at start
    visibility = (app.conf.broker_transport_options or {}).get("visibility_timeout")
    problems = []
    for name, task in sorted(app.tasks.items()):
        if name.startswith("celery."):  # Celery's own (chord unlock and the like)
            continue
        hard = task.time_limit or app.conf.task_time_limit
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        if not hard:
            problems.append(f"{name}: no hard time limit")
        elif visibility is not None and hard >= visibility:
            problems.append(
                f"{name}: its hard time limit ({hard} s) is not below CELERY_VISIBILITY_TIMEOUT ({visibility} s)"
            )
        if not soft or (hard and soft >= hard):
            problems.append(f"{name}: the soft time limit ({soft} s) must be set and below the hard one ({hard} s)")
    return problems


# A run stops starting deliveries after this long (each POST is bounded by OUTBOX_TIMEOUT_SECONDS) and leaves the
# rest to the next sweep, well inside the default task time limit.
OUTBOX_RUN_SECONDS = 40.0


@shared_task(name="apps.core.tasks.ping")
def ping(value: str = "pong") -> str:
    """A harmless task for health checks and tests: proves a worker is consuming the queue."""
    return value


@shared_task(name="apps.core.tasks.purge_task_results")
def purge_task_results(days: int = 30) -> int:
    from django.utils import timezone
    from django_celery_results.models import TaskResult

    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = TaskResult.objects.filter(date_done__lt=cutoff).delete()
    return deleted


@shared_task(name="apps.core.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.filter(expire_date__lt=timezone.now()).delete()


@shared_task(name="apps.core.tasks.outbox_deliver", base=AfterCommitTask, ignore_result=True)
def outbox_deliver() -> int:
    """Deliver the outbox's due webhooks (nudged after each event; swept by beat every minute)."""
    from apps.core.outbox import deliver_due

    return deliver_due(budget_seconds=OUTBOX_RUN_SECONDS)


@shared_task(name="apps.core.tasks.job_slice", base=AfterCommitTask, ignore_result=True)
def job_slice(job_id: int) -> str:
    """One slice of a resumable job (apps/core/jobs.py); it sends the next one itself."""
    from apps.core.jobs import job_run_slice

    return str(job_run_slice(job_id).status)


@shared_task(name="apps.core.tasks.jobs_resume_stalled", ignore_result=True)
def jobs_resume_stalled() -> list[int]:
    """Beat, every minute: re-send the next slice of the jobs whose worker was lost."""
    from apps.core.jobs import jobs_resume_stalled as resume

    return resume()
