"""Case attachments: validated as KYC documents before anything is stored, on the timeline, read only by staff who
see the case (audited), and never taken by the KYC orphan sweep."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.compliance import cases
from apps.compliance.attachments import attachment_read, case_attach
from apps.compliance.models import CaseAttachment
from apps.core.errors import ApplicationError
from apps.kyc import intake, storage
from apps.kyc.tasks import referenced_names
from apps.staff import roles
from tests.factories import PlayerFactory, StaffUserFactory
from tests.kyc import documents as files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def kyc_files(settings, tmp_path: Path) -> Path:
    root = tmp_path / "kyc-files"
    settings.KYC_STORAGE = "filesystem"
    settings.KYC_FILES_ROOT = str(root)
    return root


def stored(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def analyst():
    return StaffUserFactory(roles=[roles.AML_ANALYST])


@pytest.fixture
def case(analyst):
    return cases.case_open(actor=analyst, player=PlayerFactory(), case_type="aml", title="Source of funds")


def test_a_pdf_is_validated_stored_and_on_the_timeline(analyst, case, kyc_files):
    attachment = case_attach(actor=analyst, case=case, data=files.pdf(), declared_name="statement.pdf")
    assert attachment.content_type == "application/pdf" and attachment.original_name == "statement.pdf"
    assert len(stored(kyc_files)) == 1
    assert case.events.filter(kind="attachment").get().data["attachment"] == attachment.pk
    assert attachment_read(actor=analyst, attachment=attachment).startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="compliance.case_attachment_read").count() == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [(files.elf_executable(), "file_type_not_allowed"), (files.encrypted_pdf(), "file_corrupt"), (b"", "file_corrupt")],
)
def test_what_intake_refuses_keeps_nothing(analyst, case, kyc_files, data, code):
    with pytest.raises(ApplicationError) as excinfo:
        case_attach(actor=analyst, case=case, data=data, declared_name="x")
    assert excinfo.value.code == code
    assert not CaseAttachment.objects.exists() and not stored(kyc_files)


def test_only_who_sees_the_case_attaches_or_reads(analyst, case):
    attachment = case_attach(actor=analyst, case=case, data=files.png())
    support = StaffUserFactory(roles=[roles.SUPPORT_AGENT])
    for call in (
        lambda: case_attach(actor=support, case=case, data=files.png()),
        lambda: attachment_read(actor=support, attachment=attachment),
    ):
        with pytest.raises(ApplicationError) as excinfo:
            call()
        assert excinfo.value.code == "case_not_found"


def test_the_kyc_orphan_sweep_leaves_case_attachments_alone(analyst, case, kyc_files):
    attachment = case_attach(actor=analyst, case=case, data=files.jpeg())
    later = timezone.now() + timedelta(days=1)
    orphan = storage.store(intake.validate_upload(files.png()))  # a file no row names, for contrast
    discarded = storage.discard_orphans(referenced=referenced_names, older_than=timedelta(hours=1), now=later)
    assert discarded == [orphan]
    assert storage.exists(attachment.file_name)
