"""The compliance app's Celery tasks (routed to the ``compliance`` queue by CELERY_TASK_ROUTES). Thin callers:
the work is in the services they name. Posting events reach the rules through the wallet's drain task."""

from __future__ import annotations

from celery import shared_task

from apps.core.tasks import AfterCommitTask


@shared_task(name="apps.compliance.tasks.case_sla_sweep", base=AfterCommitTask)
def case_sla_sweep() -> dict[str, int]:
    """Every minute: cases at risk and breached, escalated to the team lead and then the MLRO."""
    from apps.compliance.sla import sla_sweep

    return sla_sweep()


@shared_task(name="apps.compliance.tasks.rules_sweep", base=AfterCommitTask)
def rules_sweep() -> dict[str, int]:
    """Every 10 minutes: the rule kinds no posting triggers (country mismatch, shared identifiers, bonus abuse)."""
    from apps.compliance.evaluation import sweep

    return sweep()
