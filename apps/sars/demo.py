"""Demo SAR for ``make run``: the demo MLRO drafts a suspicious transaction report from the demo structuring case
(the AML seeder's first case, three deposits just under the CDD threshold in a day), with the case's linked
deposits as its transactions. It stays a draft: the MLRO reads it, edits it and submits it; a second MLRO approves
it, and the export then runs on the worker (with ``GOAML_SCHEMA_PATH`` and the reporting entity set: docs/SARS.md).

Only the MLRO sees it (the tipping-off wall). Idempotent: once any report exists, nothing more is drafted.
"""

from __future__ import annotations

from apps.audit.services import AuditActor

REASON = (
    "Three card deposits of GBP 1,590 to GBP 1,650 within one day, each just under the operator's EUR 2,000 "
    "customer due diligence threshold, and no source of funds given when asked. The pattern suggests the deposits "
    "were split to stay under the threshold."
)
ACTION = "Withdrawals held for review; source of funds requested from the player."


def seed(*, actor: AuditActor | None, count: int | None) -> list[str]:
    from apps.compliance.choices import CaseType
    from apps.compliance.models import Case
    from apps.sars.choices import ReportCode
    from apps.sars.models import Sar
    from apps.sars.services import linked_reportable, sar_draft
    from apps.staff.models import StaffUser

    if Sar.objects.exists():
        return ["sars: a demo report already there"]
    mlro = StaffUser.objects.filter(username="demo-mlro", is_active=True).first()
    if mlro is None:
        return ["sars: no demo MLRO, no demo report"]
    case = next(
        (c for c in Case.objects.filter(type=CaseType.AML).order_by("id") if linked_reportable(c)),
        None,
    )
    if case is None:
        return ["sars: no AML case with linked deposits, no demo report"]
    sar = sar_draft(
        actor=mlro,
        case=case,
        report_code=ReportCode.STR,
        reason=REASON,
        action=ACTION,
        indicators="-",
        occupation="Self-employed builder (from the source-of-funds call)",
    )
    deposits = len(sar.transaction_ids)
    return [f"sars: {mlro.username} drafted report #{sar.pk} (STR, {deposits} deposits) from case #{case.pk}"]
