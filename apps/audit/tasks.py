from __future__ import annotations

import structlog
from celery import shared_task

from apps.audit.selectors import audit_chain_verify

log = structlog.get_logger(__name__)


@shared_task(name="apps.audit.tasks.audit_verify_chain")
def audit_verify_chain() -> dict[str, object]:
    report = audit_chain_verify()
    if report.ok:
        log.info("audit_chain_intact", checked=report.checked)
    else:
        log.error("audit_chain_broken", first_broken_id=report.first_broken_id, problem=report.problem)
    return {"ok": report.ok, "checked": report.checked, "first_broken_id": report.first_broken_id}
