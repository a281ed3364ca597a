"""The CRM's Celery tasks. Thin callers: the work is in apps/crm/services.py."""

from __future__ import annotations

from celery import shared_task

from apps.core.tasks import AfterCommitTask

NIGHTLY = "crm.nightly_refresh"  # the system actor of the refresh in the audit trail


@shared_task(name="apps.crm.tasks.crm_segments_refresh", base=AfterCommitTask)
def crm_segments_refresh() -> int:
    """Nightly (beat): one refresh task per dynamic segment, so a big segment never holds up or times out the
    others. Returns how many were sent."""
    from apps.crm import selectors

    ids = selectors.dynamic_segment_ids()
    for segment_id in ids:
        crm_segment_refresh.delay(segment_id)
    return len(ids)


@shared_task(name="apps.crm.tasks.crm_segment_refresh", base=AfterCommitTask, acks_late=True)
def crm_segment_refresh(segment_id: int) -> int | None:
    """A fresh snapshot of one dynamic segment (idempotent: a retry takes the snapshot again). Its member count."""
    from apps.audit.services import SystemActor
    from apps.crm import services

    done = services.segment_refresh(actor=SystemActor(NIGHTLY), segment_id=segment_id)
    return None if done is None else done.members
