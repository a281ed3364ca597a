from __future__ import annotations

from celery import shared_task

from apps.core.tasks import AfterCommitTask


@shared_task(name="apps.approvals.tasks.approvals_expire_pending", base=AfterCommitTask)
def approvals_expire_pending() -> dict[str, int]:
    """Hourly: expire the requests nobody decided within APPROVAL_PENDING_EXPIRY_HOURS (idempotent)."""
    from apps.approvals.services import approvals_expire
    from apps.audit.services import SystemActor

    return approvals_expire(actor=SystemActor("approvals expiry"))
