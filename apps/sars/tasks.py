"""The SAR app's Celery task: thin, the work is apps.sars.services.sar_export (idempotent: a ready SAR answers
its export, so a retry or a second delivery under ``acks_late`` changes nothing)."""

from __future__ import annotations

from celery import shared_task

from apps.core.tasks import AfterCommitTask


@shared_task(name="apps.sars.tasks.sar_export_task", base=AfterCommitTask)
def sar_export_task(sar_id: int) -> dict[str, object]:
    """After a second person approved: build, validate and keep the goAML file (or its errors, by path)."""
    from apps.audit.services import SYSTEM
    from apps.sars.services import sar_export

    export = sar_export(actor=SYSTEM, sar_id=sar_id)
    return {"sar": sar_id, "export": export.pk, "valid": export.valid, "errors": len(export.errors)}


EXPORT_STALLED_AFTER_SECONDS = 300


@shared_task(name="apps.sars.tasks.sars_export_sweep", base=AfterCommitTask)
def sars_export_sweep() -> int:
    """Beat: an approved SAR still not exported five minutes after its approval (its export task lost: the broker
    was down when the approval committed, or the worker died) is queued again; the export is idempotent. How
    many. Only the SAR's id travels: nothing of its content reaches the broker."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.sars.choices import SarState
    from apps.sars.models import Sar

    before = timezone.now() - timedelta(seconds=EXPORT_STALLED_AFTER_SECONDS)
    ids = list(
        Sar.objects.filter(state=SarState.APPROVED, approved_at__lt=before).order_by("pk").values_list("pk", flat=True)
    )
    for sar_id in ids:
        sar_export_task.delay(sar_id)
    return len(ids)
