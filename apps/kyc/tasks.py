from __future__ import annotations

from celery import shared_task

from apps.core.tasks import AfterCommitTask


@shared_task(name="apps.kyc.tasks.kyc_documents_expire", base=AfterCommitTask)
def kyc_documents_expire() -> dict[str, int]:
    from apps.kyc.documents import documents_expire

    return documents_expire()


@shared_task(name="apps.kyc.tasks.kyc_requirements_overdue", base=AfterCommitTask)
def kyc_requirements_overdue() -> int:
    from apps.kyc.levels import overdue_sweep

    return overdue_sweep()
