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
