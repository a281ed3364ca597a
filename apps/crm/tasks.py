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


CHUNKS_PER_TASK = 20  # 20,000 players per task at the batch path's chunk (~20 s): well inside its time limit


@shared_task(name="apps.crm.tasks.crm_campaign_run", base=AfterCommitTask, acks_late=True)
def crm_campaign_run(campaign_id: int) -> int:
    """A campaign's chunks; queues itself again while there is more (each task stays short). Chunks done."""
    from apps.crm import campaigns
    from apps.crm.choices import CampaignState
    from apps.crm.models import Campaign

    done = campaigns.campaign_run(campaign_id=campaign_id, max_chunks=CHUNKS_PER_TASK)
    if done == CHUNKS_PER_TASK and Campaign.objects.filter(pk=campaign_id, state=CampaignState.RUNNING).exists():
        crm_campaign_run.delay(campaign_id)
    return done


@shared_task(name="apps.crm.tasks.crm_campaigns_resume", base=AfterCommitTask)
def crm_campaigns_resume() -> int:
    """Beat: queue again every running campaign whose job did no chunk for two minutes. How many."""
    from apps.crm import campaigns

    ids = campaigns.stalled_campaign_ids()
    for campaign_id in ids:
        crm_campaign_run.delay(campaign_id)
    return len(ids)
