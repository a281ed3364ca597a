"""The re-screen of the player base whenever a list snapshot changes: a resumable job (``apps.core.jobs``, kind
``screening.rescreen``) over the snapshots not yet re-screened, oldest first, each against only what it added or
changed (``rescreen.rescreen_chunk`` with its ``snapshot_id``), players in id order, in chunks.

An import that writes a snapshot starts the job once it commits (``rescreen_after_import``); if one is running, it
takes the new snapshot after the current one (it looks for more before finishing). A beat job every 15 minutes
starts it if a snapshot is still waiting (an import whose start was lost to a Redis outage, or one that landed as the
running job finished). The job's cursor (the snapshot, the last player id) and result (players screened and with
hits, per snapshot) are committed after each slice, so a killed worker costs a slice; a slice run twice writes
nothing twice (an open hit is found, not added). Progress: the share of the player ids passed, per snapshot.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.audit.services import SystemActor
from apps.core.jobs import JobSlice, job_start, register_job
from apps.core.models import Job, JobStatus

KIND = "screening.rescreen"
CHUNK = 2000
ACTOR = SystemActor("screening re-screen")


def _next_snapshot() -> int | None:
    from apps.screening.models import ListSnapshot

    return ListSnapshot.objects.filter(rescreened_at=None).order_by("id").values_list("id", flat=True).first()


def step(job: JobSlice) -> None:
    from apps.players.models import Player
    from apps.screening.models import ListSnapshot
    from apps.screening.rescreen import rescreen_chunk

    top = Player.objects.aggregate(top=Max("id"))["top"] or 0
    while True:
        snapshot = job.cursor.get("snapshot")
        if snapshot is None:
            snapshot = _next_snapshot()
            if snapshot is None:
                job.result["progress"] = 100.0
                job.finish()
                return
            job.cursor.update(snapshot=snapshot, after=0)
        after = int(job.cursor.get("after", 0))
        chunk = rescreen_chunk(after_id=after, size=CHUNK, actor=ACTOR, snapshot_id=snapshot)
        done: dict[str, Any] = job.result.setdefault("snapshots", {}).setdefault(
            str(snapshot), {"screened": 0, "with_hits": 0}
        )
        done["screened"] += chunk.screened
        done["with_hits"] += chunk.with_hits
        if chunk.last_id is None:
            ListSnapshot.objects.filter(pk=snapshot, rescreened_at=None).update(rescreened_at=timezone.now())
            job.cursor.update(snapshot=None, after=0)
            job.result["progress"] = 100.0
        else:
            job.cursor["after"] = chunk.last_id
            job.result["progress"] = round(100 * chunk.last_id / top, 1) if top else 100.0
        job.result["snapshot"] = snapshot
        if job.out_of_time():
            return


def rescreen_start() -> Job | None:
    """Start the re-screen (or return the running one) if a snapshot waits for it."""
    if _next_snapshot() is None:
        return None
    return job_start(kind=KIND)


def rescreen_after_import(results: list[Any]) -> None:
    """Called by the import in its transaction: once it commits, a snapshot it wrote is re-screened."""
    if any(getattr(r, "snapshot", None) is not None and not r.unchanged for r in results):
        transaction.on_commit(rescreen_start, robust=True)


def progress(job: Job) -> dict[str, Any]:
    return {
        "status": job.status,
        "percent": float(job.result.get("progress", 0.0)),
        "snapshot": job.result.get("snapshot"),
        "snapshots": job.result.get("snapshots", {}),
        "error": job.error,
    }


def running() -> Job | None:
    return Job.objects.filter(kind=KIND, status=JobStatus.RUNNING).first()


def register() -> None:
    register_job(KIND, step, slice_seconds=30.0)
