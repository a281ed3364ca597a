"""The CRM's Celery tasks. Thin callers: the work is in apps/crm/services.py."""

from __future__ import annotations

from celery import shared_task

from apps.core.tasks import AfterCommitTask


@shared_task(name="apps.crm.tasks.crm_segments_refresh", base=AfterCommitTask)
def crm_segments_refresh() -> dict[str, int]:
    """Nightly: a fresh snapshot of every dynamic segment."""
    from apps.audit.services import SystemActor
    from apps.crm import services

    return services.segments_refresh(actor=SystemActor("crm.nightly_refresh"))
