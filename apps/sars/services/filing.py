"""Exporting, downloading, filing and correcting a report."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.services import AuditActor
from apps.sars import conf, goaml
from apps.sars.choices import EXPORTABLE, ReportCode, SarState
from apps.sars.errors import (
    GoamlSchemaUnavailable,
    SarFilingInvalid,
    SarNotExportable,
    SarNotFiled,
    SarNotFound,
    SarNotReady,
)
from apps.sars.models import Sar, SarExport
from apps.sars.services.base import REFERENCE, audit_sar, clean_text, locked, require_drafter, sees_sars
from apps.sars.services.drafts import sar_draft
from apps.staff.models import StaffUser

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
    audit_sar(
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
    require_drafter(actor)
    if sar.state != SarState.EXPORT_FAILED:
        raise SarNotExportable("Only a report whose export failed is exported again.")
    audit_sar(actor, "export_retried", sar)
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
    audit_sar(actor, "downloaded", sar, export=sar.export.pk, sha256=sar.export.sha256)
    return sar.export


# --- filing and correcting ------------------------------------------------------------------------------------


@transaction.atomic
def sar_file(*, actor: StaffUser, sar: Sar, fiu_reference: str, filed_on: date) -> Sar:
    """Record that the FIU received the report: its reference and the date. From here the row never changes."""
    require_drafter(actor)
    reference = clean_text(fiu_reference, field="fiu_reference", required=False, limit=255)
    if not reference or not REFERENCE.match(reference):
        raise SarFilingInvalid("Give the FIU's reference for the filing.", fields={"fiu_reference": ["Required."]})
    sar = locked(sar)
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
    audit_sar(actor, "filed", sar, fiu_reference=reference, filed_on=filed_on, sha256=export.sha256)
    return sar


@transaction.atomic
def sar_correct(*, actor: StaffUser, sar: Sar, reason: str, **changes: Any) -> Sar:
    """A correction of a filed report: a new draft on the same case, naming the first (``corrects``; the export
    gives the FIU's reference of the first as ``fiu_ref_number``). The filed report stays as it was filed."""
    require_drafter(actor)
    original = locked(sar)
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
    audit_sar(actor, "correction_drafted", original, correction=correction.pk)
    return correction
