from __future__ import annotations

import structlog
from celery import shared_task

from apps.audit.services import audit_checkpoint_write, audit_seal

log = structlog.get_logger(__name__)

# A run stops after this long and leaves the rest to the next one (beat runs it every few seconds), so a
# backlog after an outage never meets the task time limit.
SEAL_RUN_SECONDS = 20.0


@shared_task(name="apps.audit.tasks.audit_seal_pending", ignore_result=True, soft_time_limit=45, time_limit=60)
def audit_seal_pending() -> int:
    """Every few seconds (beat): chain the audit events committed since the last run. Two runs at once are
    harmless: the second finds the seal lock taken and returns 0."""
    sealed = audit_seal(max_seconds=SEAL_RUN_SECONDS)
    if sealed:
        log.debug("audit_sealed", sealed=sealed)
    return sealed


# Walks the whole chain in one run (about 5000 rows a chunk): the longest task; CELERY_VISIBILITY_TIMEOUT exceeds it.
@shared_task(name="apps.audit.tasks.audit_verify_chain", soft_time_limit=210, time_limit=240)
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
