from __future__ import annotations

from celery import shared_task

from apps.core.tasks import AfterCommitTask


@shared_task(name="apps.responsible.tasks.limit_changes_lapse", base=AfterCommitTask)
def limit_changes_lapse() -> int:
    from apps.responsible.services import limit_changes_lapse as lapse

    return lapse()
