"""SARs: who sees them, drafting from a case, the second person's approval, the export, filing and correcting. The
only writer of ``Sar`` and ``SarExport``.

The life of a report::

    draft ──submit──▶ pending_approval ──a second person approves──▶ approved ──export──▶ ready ──file──▶ filed
      ▲                    │ rejected                                   │  ▲                              │
      └────────────────────┘                                            ▼  │ retry                        ▼
      └──────────────reopen (to change the content)────────────── export_failed            correction (a new draft)

Who: ``sars.view_sar`` sees SARs (every view and download is audited); ``sars.draft_sar`` drafts, edits, submits,
reopens and files (the MLRO), from a case they may see (apps.compliance.cases.case_visible); ``sars.approve_sar``
approves, never their own (maker-checker through apps.approvals, kind ``sars.sar_approve``). Everyone else is
told "not found" (the tipping-off wall), and every audit event says ``visibility: compliance``.

Side effects: each service writes one audit event per change in its transaction; approval enqueues the export
task after commit (apps/sars/tasks.py), which calls :func:`sar_export`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.approvals.registry import ApprovalKind, register_kind
from apps.approvals.services import approval_request
from apps.audit.services import AuditActor, audit_log
from apps.compliance.cases import case_visible
from apps.compliance.models import Case, CaseTransaction
from apps.sars import conf, goaml
from apps.sars.choices import EDITABLE, EXPORTABLE, ReportCode, SarState
from apps.sars.errors import (
    GoamlSchemaUnavailable,
    SarCaseNotFound,
    SarCaseWithoutPlayer,
    SarFieldInvalid,
    SarFilingInvalid,
    SarNotDraft,
    SarNotExportable,
    SarNotFiled,
    SarNotFound,
    SarNotPermitted,
    SarNotReady,
)
from apps.sars.models import Sar, SarExport
from apps.staff.models import StaffUser

VIEW = "sars.view_sar"
DRAFT = "sars.draft_sar"
APPROVE = "sars.approve_sar"
APPROVE_KIND = "sars.sar_approve"
TEXT_MAX = 8000  # goAML's comments_type
INDICATOR = re.compile(r"^[A-Za-z0-9_.\-]{1,50}$")
REFERENCE = re.compile(r"^[\w./\- ]{1,255}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


# --- who sees what ----------------------------------------------------------------------------------------------


def sees_sars(user: Any) -> bool:
    """Whether the user may know that SARs exist at all: everyone else gets nothing, not even a count."""
    return bool(user is not None and getattr(user, "is_active", False) and user.has_perm(VIEW))


def sars_visible_to(user: Any, queryset: QuerySet[Sar] | None = None) -> QuerySet[Sar]:
    queryset = Sar.objects.all() if queryset is None else queryset
    return queryset if sees_sars(user) else queryset.none()


def sar_get(user: Any, pk: Any) -> Sar:
    """The SAR if the user may see it; ``sar_not_found`` otherwise (whether or not it exists)."""
    try:
        return sars_visible_to(user).select_related("case", "player", "export", "corrects").get(pk=int(pk))
    except (Sar.DoesNotExist, TypeError, ValueError) as exc:
        raise SarNotFound("No such report.") from exc


def _audit(actor: AuditActor | None, action: str, sar: Sar, **data: Any) -> None:
    audit_log(
        actor=actor,
        action=f"sars.{action}",
        target=sar,
        data={
            "sar": sar.pk,
            "case": sar.case_id,
            "report_code": sar.report_code,
            "state": sar.state,
            "visibility": "compliance",
            **data,
        },
    )


@transaction.atomic
def sar_viewed(*, actor: StaffUser, sar: Sar) -> None:
    """Reading a SAR is an event of its own: who looked at which report, and when."""
    if not sees_sars(actor):
        raise SarNotFound("No such report.")
    _audit(actor, "viewed", sar)


@transaction.atomic
def sar_list_viewed(*, actor: StaffUser) -> None:
    """Opening the list of reports is an event too: it says which reports exist."""
    if not sees_sars(actor):
        raise SarNotFound("No such report.")
    audit_log(actor=actor, action="sars.list_viewed", data={"visibility": "compliance"})


def _require_drafter(actor: Any) -> None:
    if not sees_sars(actor):
        raise SarNotFound("No such report.")
    if not actor.has_perm(DRAFT):
        raise SarNotPermitted("You may not draft or file reports (sars.draft_sar).")


def _locked(sar: Sar) -> Sar:
    return Sar.objects.select_for_update().get(pk=sar.pk)


# --- the content ------------------------------------------------------------------------------------------------


def _text(value: Any, *, field: str, required: bool, limit: int = TEXT_MAX) -> str:
    value = str(value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL.search(value):
        raise SarFieldInvalid("The text may not contain control characters.", fields={field: ["Control chars."]})
    if required and not value:
        raise SarFieldInvalid(f"The {field} is required.", fields={field: ["Required."]})
    if len(value) > limit:
        raise SarFieldInvalid(f"The {field} is too long.", fields={field: [f"At most {limit} characters."]})
    return value


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
    ids = linked if chosen is None else [int(t) for t in chosen]
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
        "reason": _text(data.get("reason"), field="reason", required=True),
        "action": _text(data.get("action"), field="action", required=False),
        "indicators": _indicators(data.get("indicators")),
        "occupation": _text(data.get("occupation"), field="occupation", required=False, limit=255),
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
    _require_drafter(actor)
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
    _audit(actor, "drafted", sar, corrects=corrects.pk if corrects else None)
    return sar


@transaction.atomic
def sar_update(*, actor: StaffUser, sar: Sar, **changes: Any) -> Sar:
    """Change a draft's content (any of report_code, reason, action, indicators, occupation, transaction_ids)."""
    _require_drafter(actor)
    sar = _locked(sar)
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
    _audit(actor, "updated", sar, changed=changed)
    return sar


@transaction.atomic
def sar_submit(*, actor: StaffUser, sar: Sar, note: str = "") -> Sar:
    """Ask a second person to approve the draft (apps.approvals; the checker needs ``sars.approve_sar`` and is
    never the maker). The content is frozen from here (the database's guard) until a rejection or a reopen."""
    _require_drafter(actor)
    sar = _locked(sar)
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
    _audit(actor, "submitted", sar, approval=approval.pk)
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
    _audit(actor, "approved", sar, approval=approval.pk, maker=approval.maker_id)
    sar_export_task.delay(sar.pk)  # AfterCommitTask: sent once the approval commits


def _approve_reject(approval: Any, actor: StaffUser) -> None:
    sar = _approval_target(approval)
    sar.state = SarState.DRAFT
    sar.save(update_fields=["state"])
    _audit(actor, "rejected", sar, approval=approval.pk, reason=approval.decision_reason)


def _sar_url(approval: Any) -> str | None:
    try:
        return reverse("admin:sars_sar_change", args=[approval.target_id])
    except NoReverseMatch:
        return None


@transaction.atomic
def sar_reopen(*, actor: StaffUser, sar: Sar, reason: str) -> Sar:
    """An export that failed because of the report's content: back to a draft, to change it and ask again."""
    _require_drafter(actor)
    reason = _text(reason, field="reason", required=True, limit=500)
    sar = _locked(sar)
    if sar.state != SarState.EXPORT_FAILED:
        raise SarNotExportable("Only a report whose export failed is reopened (a draft is edited as it is).")
    sar.state, sar.approved_at, sar.approved_by, sar.submitted_at = SarState.DRAFT, None, None, None
    sar.save(update_fields=["state", "approved_at", "approved_by", "submitted_at"])
    _audit(actor, "reopened", sar, reason=reason)
    return sar


# --- the export ---------------------------------------------------------------------------------------------------


@transaction.atomic
def sar_export(*, actor: AuditActor, sar_id: int, today: date | None = None) -> SarExport:
    """Build the goAML XML, validate it against ``GOAML_SCHEMA_PATH`` and the business rules, and keep the run.
    Valid: the SAR is ready and names this export (SHA-256 and size kept). Not valid: the SAR stays
    ``export_failed`` with each problem by path (a schema that cannot be read is one problem). Idempotent: a SAR
    already ready answers its export."""
    sar = Sar.objects.select_for_update(of=("self",)).select_related("player", "corrects", "export").get(pk=sar_id)
    if sar.state == SarState.READY and sar.export is not None:
        return sar.export
    if sar.state not in EXPORTABLE:
        raise SarNotExportable(f"The report is {sar.get_state_display().lower()}: only an approved one is exported.")
    path = conf.schema_path()
    xml = goaml.build(sar)
    try:
        checked = goaml.validate(xml, schema_path=path, today=today)
        problems, schema_sha256 = [p.as_dict() for p in checked.problems], checked.schema_sha256
    except GoamlSchemaUnavailable as exc:
        problems, schema_sha256 = [{"path": "GOAML_SCHEMA_PATH", "message": exc.message, "source": "schema"}], ""
    valid = not problems
    export = SarExport.objects.create(
        sar=sar,
        valid=valid,
        errors=problems,
        xml=xml.decode("utf-8"),
        sha256=hashlib.sha256(xml).hexdigest() if valid else "",
        size=len(xml),
        schema_path=path[:500],
        schema_sha256=schema_sha256,
    )
    sar.state = SarState.READY if valid else SarState.EXPORT_FAILED
    if valid:
        sar.export = export
    sar.save(update_fields=["state", "export"])
    _audit(
        actor,
        "exported" if valid else "export_failed",
        sar,
        export=export.pk,
        sha256=export.sha256,
        size=export.size,
        errors=len(problems),
    )
    return export


@transaction.atomic
def sar_export_retry(*, actor: StaffUser, sar: Sar) -> Sar:
    """Export again, the content unchanged (the player's record or the schema setting was fixed meanwhile)."""
    _require_drafter(actor)
    if sar.state != SarState.EXPORT_FAILED:
        raise SarNotExportable("Only a report whose export failed is exported again.")
    _audit(actor, "export_retried", sar)
    sar_export(actor=actor, sar_id=sar.pk)
    return Sar.objects.get(pk=sar.pk)


@transaction.atomic
def sar_download(*, actor: StaffUser, sar: Sar) -> SarExport:
    """The valid file, for the MLRO to upload to the FIU's portal. Each download is an audit event."""
    if not sees_sars(actor):
        raise SarNotFound("No such report.")
    sar = Sar.objects.select_related("export").get(pk=sar.pk)
    if sar.export is None or sar.state not in (SarState.READY, SarState.FILED):
        raise SarNotReady("The report has no valid export to download.")
    _audit(actor, "downloaded", sar, export=sar.export.pk, sha256=sar.export.sha256)
    return sar.export


# --- filing and correcting ------------------------------------------------------------------------------------


@transaction.atomic
def sar_file(*, actor: StaffUser, sar: Sar, fiu_reference: str, filed_on: date) -> Sar:
    """Record that the FIU received the report: its reference and the date. From here the row never changes."""
    _require_drafter(actor)
    reference = _text(fiu_reference, field="fiu_reference", required=False, limit=255)
    if not reference or not REFERENCE.match(reference):
        raise SarFilingInvalid("Give the FIU's reference for the filing.", fields={"fiu_reference": ["Required."]})
    sar = _locked(sar)
    if sar.state != SarState.READY or sar.export_id is None:
        raise SarNotReady(f"The report is {sar.get_state_display().lower()}: only a ready report is filed.")
    export = SarExport.objects.get(pk=sar.export_id)
    if filed_on > timezone.localdate():
        raise SarFilingInvalid("The filing date is in the future.", fields={"filed_on": ["Not in the future."]})
    if filed_on < timezone.localdate(export.created_at):
        raise SarFilingInvalid("The report was filed before it was exported?", fields={"filed_on": ["Too early."]})
    sar.state, sar.fiu_reference, sar.filed_on = SarState.FILED, reference, filed_on
    sar.filed_at, sar.filed_by = timezone.now(), actor
    sar.save(update_fields=["state", "fiu_reference", "filed_on", "filed_at", "filed_by"])
    _audit(actor, "filed", sar, fiu_reference=reference, filed_on=filed_on, sha256=export.sha256)
    return sar


@transaction.atomic
def sar_correct(*, actor: StaffUser, sar: Sar, reason: str, **changes: Any) -> Sar:
    """A correction of a filed report: a new draft on the same case, naming the first (``corrects``; the export
    gives the FIU's reference of the first as ``fiu_ref_number``). The filed report stays as it was filed."""
    _require_drafter(actor)
    original = _locked(sar)
    if original.state != SarState.FILED:
        raise SarNotFiled("Only a filed report is corrected: change the draft, or reopen its failed export.")
    content = {
        "report_code": original.report_code,
        "reason": reason,
        "action": original.action,
        "indicators": original.indicators,
        "occupation": original.occupation,
        "transaction_ids": original.transaction_ids if original.report_code == ReportCode.STR else None,
        **changes,
    }
    if content["report_code"] != original.report_code and "transaction_ids" not in changes:
        content["transaction_ids"] = None
    correction = sar_draft(actor=actor, case=original.case, corrects=original, **content)
    _audit(actor, "correction_drafted", original, correction=correction.pk)
    return correction


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
