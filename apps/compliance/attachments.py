"""A case's attachments: files validated exactly as KYC documents are (``apps.kyc.intake``: the content sniffed,
JPEG/PNG re-encoded without their metadata, PDFs inspected and refused with JavaScript or encryption, size and
pixel caps) before anything is stored, then kept in the KYC storage under a generated name.

The file is written inside the transaction that creates its row and deleted again if that rolls back
(``store_on_commit``); the KYC orphan sweep leaves it alone because this app says which names are its own
(``register_file_owner``). Reading one is audited, and only for staff who may see the case.
"""

from __future__ import annotations

from typing import IO

from django.db import transaction

from apps.audit.services import audit_log
from apps.compliance.cases import _event, _guarded, case_visible
from apps.compliance.choices import CaseEventKind
from apps.compliance.errors import CaseNotFound
from apps.compliance.models import Case, CaseAttachment
from apps.staff.models import StaffUser


def case_attach(
    *, actor: StaffUser, case: Case, data: bytes | IO[bytes], declared_name: str = "", declared_type: str = ""
) -> CaseAttachment:
    """Validate and store a file on the case (who works the case may attach): ``file_too_large``,
    ``file_type_not_allowed``, ``file_corrupt`` keep nothing."""
    from apps.kyc.intake import validate_upload
    from apps.kyc.storage import store_on_commit

    case = _guarded(actor, case)
    validated = validate_upload(data, declared_name=declared_name, declared_type=declared_type)
    with transaction.atomic():
        name = store_on_commit(validated)
        attachment = CaseAttachment.objects.create(
            case=case,
            file_name=name,
            original_name=(validated.declared_name or f"attachment.{validated.extension}")[:200],
            content_type=validated.content_type,
            size=validated.size,
            sha256=validated.sha256,
            uploaded_by=actor,
        )
        _event(
            case,
            CaseEventKind.ATTACHMENT,
            actor,
            f"Attached {attachment.original_name} ({validated.content_type}, {validated.size:,} bytes)",
            attachment=attachment.pk,
            sha256=validated.sha256,
        )
        audit_log(
            actor=actor,
            action="compliance.case_attachment_added",
            target=case,
            data={
                "case": case.pk,
                "attachment": attachment.pk,
                "sha256": validated.sha256,
                "upload_sha256": validated.upload_sha256,
                "visibility": "compliance",
            },
        )
    return attachment


def attachment_read(*, actor: StaffUser, attachment: CaseAttachment) -> bytes:
    """The stored bytes, for staff who may see the case; every read audited."""
    from apps.kyc.storage import open_document

    case = Case.objects.get(pk=attachment.case_id)
    if not case_visible(actor, case):
        raise CaseNotFound("No such case.")
    content = open_document(attachment.file_name)
    audit_log(
        actor=actor,
        action="compliance.case_attachment_read",
        target=case,
        data={"case": case.pk, "attachment": attachment.pk, "visibility": "compliance"},
    )
    return content


def owned_names(names: list[str]) -> set[str]:
    return set(CaseAttachment.objects.filter(file_name__in=names).values_list("file_name", flat=True))


def register() -> None:
    from apps.kyc.storage import register_file_owner

    register_file_owner(owned_names)
