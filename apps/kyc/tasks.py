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


@shared_task(name="apps.kyc.tasks.kyc_discard_orphan_files", base=AfterCommitTask)
def kyc_discard_orphan_files() -> int:
    """Files a process stored and then died before its transaction committed (no row names them)."""
    from datetime import timedelta

    from apps.kyc.storage import discard_orphans

    return len(discard_orphans(referenced=referenced_names, older_than=timedelta(hours=1)))


def referenced_names(names: list[str]) -> set[str]:
    """The names a row holds: a document's, or another app's that keeps files here (a case's attachments)."""
    from apps.kyc.models import Document
    from apps.kyc.storage import referenced_elsewhere

    documents = set(Document.objects.filter(file_name__in=names).values_list("file_name", flat=True))
    return documents | referenced_elsewhere(names)
