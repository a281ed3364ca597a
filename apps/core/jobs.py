"""Resumable jobs: long work cut into short slices, each one committed with where the next one starts.

Why: a task is redelivered by Redis only after the visibility timeout (CELERY_VISIBILITY_TIMEOUT, minutes), which
must exceed every task's time limit. A job that needs longer than that (a reconciliation of the whole ledger, a
report, a re-screen of every player, a campaign) runs as many short slices instead: each slice is one task run of
at most ``slice_seconds``, and it commits the job's ``cursor`` (where the next slice starts) and ``result`` (what
the slices so far found) on its ``Job`` row before it sends the next slice. A worker that dies loses one slice at
most; the job goes on from the last committed cursor.

Plugging in a job kind (from the app's ``AppConfig.ready`` or its tasks module)::

    def step(job: JobSlice) -> None:
        after = job.cursor.get("after", 0)
        for batch in batches_after(after):          # bounded pieces of work
            job.result["found"] = job.result.get("found", 0) + check(batch)
            job.cursor["after"] = batch.last_id
            if job.out_of_time():
                return                              # committed; the next slice resumes from cursor["after"]
        job.finish()                                # no more work: the job is done

    register_job("wallet.ledger_reconcile", step)
    job_start(kind="wallet.ledger_reconcile")       # a task or a command calls this

A step must be safe to run twice from the same cursor (read-only, or idempotent writes): a slice whose worker was
lost is run again. Two runs of one slice never both count: a slice commits only if no other slice committed since
it started (``slices`` is compared and incremented in the same UPDATE).

A dead worker's job: every committed slice updates ``heartbeat_at``. The beat sweep (``jobs_resume_stalled``,
every minute) re-sends the next slice of any running job whose heartbeat is older than JOB_STALL_SECONDS, at most
JOB_MAX_REDISPATCHES times in a row; then the job fails with a message saying so.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.models import Job, JobStatus

log = structlog.get_logger(__name__)

SLICE_TASK = "apps.core.tasks.job_slice"


@dataclass
class JobSlice:
    """What a step sees and changes: the job's parameters, its cursor and result (both saved when the slice ends)."""

    job_id: int
    params: dict[str, Any]
    cursor: dict[str, Any]
    result: dict[str, Any]
    deadline: float
    done: bool = False
    log_lines: list[str] = field(default_factory=list)

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline

    def finish(self) -> None:
        self.done = True


Step = Callable[[JobSlice], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    step: Step
    slice_seconds: float


_kinds: dict[str, JobKind] = {}


def register_job(name: str, step: Step, *, slice_seconds: float = 30.0) -> None:
    """Register (or replace) a job kind. ``slice_seconds`` stays well below the slice task's soft time limit."""
    if slice_seconds <= 0 or slice_seconds > 45:
        raise ValueError(f"job {name!r}: slice_seconds between 0 and 45 (the slice task's soft limit is 60 s)")
    _kinds[name] = JobKind(name, step, slice_seconds)


def job_kind(name: str) -> JobKind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"no job kind {name!r} is registered") from None


def _send_slice(job_id: int) -> None:
    from apps.core.tasks import job_slice

    job_slice.delay(job_id)  # after commit (AfterCommitTask); if Redis is down, the sweep sends it later


def job_start(*, kind: str, params: dict[str, Any] | None = None) -> Job:
    """Start a job of ``kind`` and send its first slice; while one of that kind is running, return that one."""
    job_kind(kind)
    try:
        with transaction.atomic():
            job = Job.objects.create(kind=kind, params=params or {})
            transaction.on_commit(lambda: _send_slice(job.pk), robust=True)
    except IntegrityError:  # core_job_one_running_per_kind
        return Job.objects.get(kind=kind, status=JobStatus.RUNNING)
    log.info("job_started", job_id=job.pk, kind=kind)
    return job


def job_run_slice(job_id: int) -> Job:
    """Run one slice of a running job (the ``job_slice`` task): step until done or out of time, commit, go on."""
    job = Job.objects.get(pk=job_id)
    if job.status != JobStatus.RUNNING:
        return job
    kind = job_kind(job.kind)
    work = JobSlice(
        job_id=job.pk,
        params=dict(job.params),
        cursor=dict(job.cursor),
        result=dict(job.result),
        deadline=time.monotonic() + kind.slice_seconds,
    )
    try:
        kind.step(work)
    except Exception as exc:
        log.exception("job_failed", job_id=job.pk, kind=job.kind, slice=job.slices + 1)
        Job.objects.filter(pk=job.pk, slices=job.slices, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:300], finished_at=timezone.now()
        )
        return Job.objects.get(pk=job.pk)
    now = timezone.now()
    changes: dict[str, Any] = {
        "cursor": work.cursor,
        "result": work.result,
        "slices": job.slices + 1,
        "heartbeat_at": now,
        "redispatches": 0,
    }
    if work.done:
        changes.update(status=JobStatus.DONE, finished_at=now)
    with transaction.atomic():
        # compare-and-set: a slice that ran twice (redelivered) commits once; the other run's work is dropped
        committed = Job.objects.filter(pk=job.pk, slices=job.slices, status=JobStatus.RUNNING).update(**changes)
        if committed and not work.done:
            transaction.on_commit(lambda: _send_slice(job.pk), robust=True)
    if not committed:
        log.warning("job_slice_superseded", job_id=job.pk, kind=job.kind, slice=job.slices + 1)
    elif work.done:
        log.info("job_done", job_id=job.pk, kind=job.kind, slices=job.slices + 1, result=work.result)
    return Job.objects.get(pk=job.pk)


def jobs_resume_stalled() -> list[int]:
    """Beat: re-send the next slice of every running job whose worker was lost (no heartbeat for
    JOB_STALL_SECONDS); fail one that lost its worker JOB_MAX_REDISPATCHES times in a row. Returns the re-sent."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALL_SECONDS)
    resent = []
    for job in Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff).order_by("id"):
        with transaction.atomic():
            if job.redispatches >= settings.JOB_MAX_REDISPATCHES:
                Job.objects.filter(pk=job.pk, slices=job.slices).update(
                    status=JobStatus.FAILED,
                    error=f"no slice finished after {job.redispatches} re-sends (a worker lost each time?)",
                    finished_at=timezone.now(),
                )
                log.error("job_abandoned", job_id=job.pk, kind=job.kind, redispatches=job.redispatches)
                continue
            updated = Job.objects.filter(pk=job.pk, slices=job.slices, heartbeat_at=job.heartbeat_at).update(
                heartbeat_at=timezone.now(), redispatches=job.redispatches + 1
            )
            if updated:
                transaction.on_commit(functools.partial(_send_slice, job.pk), robust=True)
                resent.append(job.pk)
                log.warning("job_resumed", job_id=job.pk, kind=job.kind, slice=job.slices + 1)
    return resent
