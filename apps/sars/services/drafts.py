"""Drafting, editing, submitting and reopening a report, and the maker-checker kind that approves it."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.approvals.registry import ApprovalKind, register_kind
from apps.approvals.services import approval_request
from apps.compliance.cases import case_visible
from apps.compliance.models import Case, CaseTransaction
from apps.sars import goaml
from apps.sars.choices import EDITABLE, ReportCode, SarState
from apps.sars.errors import (
    SarCaseNotFound,
    SarCaseWithoutPlayer,
    SarFieldInvalid,
    SarNotDraft,
    SarNotExportable,
)
from apps.sars.models import Sar
from apps.sars.services.base import (
    APPROVE,
    APPROVE_KIND,
    DRAFT,
    INDICATOR,
    audit_sar,
    clean_text,
    locked,
    require_drafter,
)
from apps.staff.models import StaffUser

# --- the content ------------------------------------------------------------------------------------------------


def _indicators(values: Any) -> list[str]:
    if isinstance(values, str):
        values = re.split(r"[\s,;]+", values)
    codes = [str(v).strip() for v in (values or []) if str(v).strip()]
    bad = [c for c in codes if not INDICATOR.match(c)]
    if bad:
        raise SarFieldInvalid(
            "An indicator is one of the FIU's codes (letters, digits, - _ .).", fields={"indicators": bad[:5]}
        )
    if not codes:
        raise SarFieldInvalid(
            "Give at least one of the FIU's report indicators.", fields={"indicators": ["At least one."]}
        )
    return list(dict.fromkeys(codes))  # once each, in the order given


def linked_reportable(case: Case) -> list[int]:
    """The case's linked ledger transactions an STR can report (deposits and withdrawals), oldest first."""
    from apps.wallet.models import LedgerTransaction

    ids = CaseTransaction.objects.filter(case=case).values_list("transaction_id", flat=True)
    return list(
        LedgerTransaction.objects.filter(pk__in=list(ids), type__in=goaml.REPORTABLE_TYPES)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )


def _transactions(case: Case, report_code: str, chosen: Any) -> list[int]:
    if report_code == ReportCode.SAR:
        return []
    linked = linked_reportable(case)
    try:
        ids = linked if chosen is None else [int(t) for t in chosen]
    except (TypeError, ValueError) as exc:
        raise SarFieldInvalid(
            "Transactions are named by their numbers.", fields={"transaction_ids": ["Numbers."]}
        ) from exc
    foreign = [t for t in ids if t not in linked]
    if foreign:
        raise SarFieldInvalid(
            "Only the case's linked deposits and withdrawals can be reported.",
            fields={"transaction_ids": [str(t) for t in foreign[:10]]},
        )
    if not ids:
        raise SarFieldInvalid(
            "An STR reports transactions: link the case's deposits or withdrawals first, or file a SAR.",
            fields={"transaction_ids": ["At least one."]},
        )
    return list(dict.fromkeys(ids))


def _content(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    report_code = data.get("report_code", ReportCode.SAR)
    if report_code not in ReportCode.values:
        raise SarFieldInvalid("The report code is SAR or STR.", fields={"report_code": ["SAR or STR."]})
    return {
        "report_code": report_code,
        "reason": clean_text(data.get("reason"), field="reason", required=True),
        "action": clean_text(data.get("action"), field="action", required=False),
        "indicators": _indicators(data.get("indicators")),
        "occupation": clean_text(data.get("occupation"), field="occupation", required=False, limit=255),
        "transaction_ids": _transactions(case, report_code, data.get("transaction_ids")),
    }


@transaction.atomic
def sar_draft(
    *,
    actor: StaffUser,
    case: Case,
    report_code: str,
    reason: str,
    indicators: Any,
    action: str = "",
    occupation: str = "",
    transaction_ids: list[int] | None = None,
    corrects: Sar | None = None,
) -> Sar:
    """A new draft from a case the MLRO may see; the subject is the case's player. An STR takes the case's linked
    deposits and withdrawals unless ``transaction_ids`` names some of them."""
    require_drafter(actor)
    if not case_visible(actor, case):
        raise SarCaseNotFound("No such case.")
    if case.player_id is None:
        raise SarCaseWithoutPlayer("The case names no player: a report needs its subject.")
    content = _content(
        case,
        {
            "report_code": report_code,
            "reason": reason,
            "action": action,
            "indicators": indicators,
            "occupation": occupation,
            "transaction_ids": transaction_ids,
        },
    )
    now = timezone.now()
    sar = Sar.objects.create(
        case=case,
        player_id=case.player_id,
        created_by=actor,
        created_at=now,
        updated_at=now,
        corrects=corrects,
        **content,
    )
    audit_sar(actor, "drafted", sar, corrects=corrects.pk if corrects else None)
    return sar


@transaction.atomic
def sar_update(*, actor: StaffUser, sar: Sar, **changes: Any) -> Sar:
    """Change a draft's content (any of report_code, reason, action, indicators, occupation, transaction_ids)."""
    require_drafter(actor)
    sar = locked(sar)
    if sar.state not in EDITABLE:
        raise SarNotDraft(f"The report is {sar.get_state_display().lower()}: only a draft can be changed.")
    unknown = set(changes) - {"report_code", "reason", "action", "indicators", "occupation", "transaction_ids"}
    if unknown:
        raise SarFieldInvalid("Unknown fields.", fields={k: ["Unknown."] for k in sorted(unknown)})
    current = {
        "report_code": sar.report_code,
        "reason": sar.reason,
        "action": sar.action,
        "indicators": sar.indicators,
        "occupation": sar.occupation,
        "transaction_ids": sar.transaction_ids if sar.report_code == ReportCode.STR else None,
    }
    if changes.get("report_code", sar.report_code) != sar.report_code and "transaction_ids" not in changes:
        current["transaction_ids"] = None  # SAR → STR: the case's linked transactions
    content = _content(sar.case, {**current, **changes})
    changed = sorted(k for k, v in content.items() if getattr(sar, k) != v)
    for key, value in content.items():
        setattr(sar, key, value)
    sar.updated_at = timezone.now()
    sar.save()
    audit_sar(actor, "updated", sar, changed=changed)
    return sar


@transaction.atomic
def sar_submit(*, actor: StaffUser, sar: Sar, note: str = "") -> Sar:
    """Ask a second person to approve the draft (apps.approvals; the checker needs ``sars.approve_sar`` and is
    never the maker). The content is frozen from here (the database's guard) until a rejection or a reopen."""
    require_drafter(actor)
    sar = locked(sar)
    if sar.state not in EDITABLE:
        raise SarNotDraft(f"The report is {sar.get_state_display().lower()}: only a draft is submitted.")
    sar.state, sar.submitted_at = SarState.PENDING_APPROVAL, timezone.now()
    sar.save(update_fields=["state", "submitted_at"])
    approval = approval_request(
        actor=actor,
        kind=APPROVE_KIND,
        target=sar,
        reason=note.strip() or f"{sar.report_code} on case #{sar.case_id}",
        payload={"report_code": sar.report_code},
        player_id=sar.player_id,
    )
    audit_sar(actor, "submitted", sar, approval=approval.pk)
    return sar


def _approval_target(approval: Any) -> Sar:
    sar = Sar.objects.select_for_update().get(pk=int(approval.target_id))
    if sar.state != SarState.PENDING_APPROVAL:
        raise SarNotDraft(f"The report is {sar.get_state_display().lower()}, not waiting for approval.")
    return sar


def _approve_apply(approval: Any, actor: StaffUser) -> None:
    from apps.sars.tasks import sar_export_task

    sar = _approval_target(approval)
    sar.state, sar.approved_at, sar.approved_by = SarState.APPROVED, timezone.now(), approval.checker
    sar.save(update_fields=["state", "approved_at", "approved_by"])
    audit_sar(actor, "approved", sar, approval=approval.pk, maker=approval.maker_id)
    sar_export_task.delay(sar.pk)  # AfterCommitTask: sent once the approval commits


def _approve_reject(approval: Any, actor: StaffUser) -> None:
    sar = _approval_target(approval)
    sar.state = SarState.DRAFT
    sar.save(update_fields=["state"])
    audit_sar(actor, "rejected", sar, approval=approval.pk, reason=approval.decision_reason)


def _sar_url(approval: Any) -> str | None:
    try:
        return reverse("admin:sars_sar_change", args=[approval.target_id])
    except NoReverseMatch:
        return None


@transaction.atomic
def sar_reopen(*, actor: StaffUser, sar: Sar, reason: str) -> Sar:
    """An export that failed because of the report's content: back to a draft, to change it and ask again."""
    require_drafter(actor)
    reason = clean_text(reason, field="reason", required=True, limit=500)
    sar = locked(sar)
    if sar.state != SarState.EXPORT_FAILED:
        raise SarNotExportable("Only a report whose export failed is reopened (a draft is edited as it is).")
    sar.state, sar.approved_at, sar.approved_by, sar.submitted_at = SarState.DRAFT, None, None, None
    sar.save(update_fields=["state", "approved_at", "approved_by", "submitted_at"])
    audit_sar(actor, "reopened", sar, reason=reason)
    return sar


def register() -> None:
    """The maker-checker kind of a SAR (from ``SarsConfig.ready``)."""
    register_kind(
        ApprovalKind(
            code=APPROVE_KIND,
            label="Report to the FIU",
            request_permission=DRAFT,
            decide_permission=APPROVE,
            apply=_approve_apply,
            on_reject=_approve_reject,
            target_url=_sar_url,
        )
    )
