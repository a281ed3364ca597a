from __future__ import annotations

import structlog
from celery import shared_task

from apps.audit.services import audit_checkpoint_write

log = structlog.get_logger(__name__)


@shared_task(name="apps.audit.tasks.audit_verify_chain")
def audit_verify_chain() -> dict[str, object]:
    """Nightly: verify the chain against its checkpoints, then checkpoint the verified head (never a broken one)."""
    report, path = audit_checkpoint_write()
    if report.ok:
        log.info("audit_chain_intact", checked=report.checked, checkpoint=str(path))
    else:
        log.error("audit_chain_broken", first_broken_id=report.first_broken_id, problem=report.problem)
    return {
        "ok": report.ok,
        "checked": report.checked,
        "first_broken_id": report.first_broken_id,
        "problem": report.problem,
        "checkpoint": str(path) if path else None,
    }
