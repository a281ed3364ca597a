"""Documents through the services: intake into a review, what is encrypted, duplicates across accounts, the
officer's decisions and the level they add up to (``can()`` follows at once), level 3 with a second officer,
vendors applied once, and expiry."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from apps.approvals.errors import ApprovalPending
from apps.approvals.models import Approval, ApprovalState
from apps.approvals.services import approval_decide
from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.core.errors import SameApprover
from apps.core.models import OutboxEvent
from apps.kyc import crypto, documents
from apps.kyc.choices import DocumentState, Source
from apps.kyc.errors import (
    DocumentExpired,
    DocumentInvalid,
    DocumentNotPending,
    FileCorrupt,
    RejectionReasonRequired,
    ReviewNotPermitted,
    RevisionMessageRequired,
)
from apps.kyc.models import Document, DocumentDecision, KycProfile, Requirement, Review
from apps.players.eligibility import can
from tests.factories import PlayerFactory, StaffUserFactory
from tests.kyc import documents as files
from tests.kyc.conftest import stored_files

pytestmark = pytest.mark.django_db
PLATFORM = SystemActor("platform")
NEXT_YEAR = date.today() + timedelta(days=365)


def officer(*perms: str):
    user = StaffUserFactory()
    for codename in perms or ("decide_review",):
        user.user_permissions.add(Permission.objects.get(content_type__app_label="kyc", codename=codename))
    return type(user).objects.get(pk=user.pk)  # fresh permission cache


def upload(player, document_type="passport", data=None, **kwargs):
    return documents.document_upload(
        actor=PLATFORM,
        player=player,
        document_type=document_type,
        data=data if data is not None else files.jpeg(),
        source=Source.API,
        **kwargs,
    )


# --- intake ---------------------------------------------------------------------------------------------------


def test_an_upload_opens_a_review_due_by_the_sla_or_the_requirement(kyc_files: Path, settings):
    settings.KYC_REVIEW_SLA_HOURS = 24
    player = PlayerFactory(kyc_level=0)
    first = upload(player, issuing_country="gb", expires_on=NEXT_YEAR, number="123 456-789")
    second = upload(player, "utility_bill", files.pdf())
    assert first.review_id == second.review_id and Review.objects.get().state == "open"
    review = first.review
    assert timedelta(hours=23) < review.due_at - timezone.now() <= timedelta(hours=24)
    assert (first.file_kind, second.file_kind, second.pages) == ("jpeg", "pdf", 1)
    assert len(stored_files(kyc_files)) == 2 and first.issuing_country == "GB"

    due_soon = PlayerFactory(kyc_level=1)
    Requirement.objects.create(
        player=due_soon, level=2, trigger="staff", due_at=timezone.now() + timedelta(hours=2), restricts=["withdraw"]
    )
    assert upload(due_soon, "bank_statement").review.due_at < timezone.now() + timedelta(hours=3)


def test_the_document_number_is_encrypted_at_rest_with_a_keyed_hash_beside_it():
    player = PlayerFactory()
    document = upload(player, issuing_country="GB", expires_on=NEXT_YEAR, number="AB1234567")
    with connection.cursor() as cursor:
        cursor.execute("SELECT number, number_hash FROM kyc_document WHERE id = %s", [document.pk])
        raw, number_hash = cursor.fetchone()
    assert "AB1234567" not in raw and raw.startswith("gAAAA")  # a Fernet token
    assert number_hash == crypto.number_hash("passport", "GB", "ab 123-4567") and len(number_hash) == 64
    assert Document.objects.get(pk=document.pk).number == "AB1234567"
    audited = AuditEvent.objects.filter(action="kyc.document_uploaded").latest("id")
    assert "AB1234567" not in str(audited.data)


def test_a_rotated_key_still_reads_old_numbers_and_re_encrypts_them(settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.KYC_FIELD_KEYS = [old]
    document = upload(PlayerFactory(), issuing_country="GB", expires_on=NEXT_YEAR, number="ZZ999")
    settings.KYC_FIELD_KEYS = [new, old]
    assert Document.objects.get(pk=document.pk).number == "ZZ999"
    with connection.cursor() as cursor:
        cursor.execute("SELECT number FROM kyc_document WHERE id = %s", [document.pk])
        token = cursor.fetchone()[0]
    rotated = crypto.reencrypt(token)
    assert Fernet(new.encode()).decrypt(rotated.encode()) == b"ZZ999"
    settings.KYC_FIELD_KEYS = [Fernet.generate_key().decode()]  # a key that opens nothing: never the ciphertext
    assert Document.objects.get(pk=document.pk).number == crypto.UNREADABLE


@pytest.mark.parametrize(
    "changes,error,field",
    [
        ({"document_type": "tax_return"}, DocumentInvalid, "type"),
        ({"issuing_country": "XX"}, DocumentInvalid, "issuing_country"),
        ({"document_type": "utility_bill", "number": "123"}, DocumentInvalid, "number"),
        ({"expires_on": date(2020, 1, 1)}, DocumentExpired, "expires_on"),
    ],
)
def test_bad_details_are_refused_before_anything_is_kept(kyc_files: Path, changes, error, field):
    player = PlayerFactory()
    with pytest.raises(error) as refused:
        upload(player, **{"document_type": "passport", **changes})
    assert field in refused.value.fields
    assert refused.value.code in ("document_invalid", "document_expired")
    assert not Document.objects.exists() and not Review.objects.exists() and stored_files(kyc_files) == []


def test_a_corrupt_file_keeps_no_row_and_no_file(kyc_files: Path):
    with pytest.raises(FileCorrupt):
        upload(PlayerFactory(), data=files.jpeg()[:200])
    assert not Document.objects.exists() and stored_files(kyc_files) == []


def test_a_rolled_back_upload_leaves_no_file(kyc_files: Path):
    player = PlayerFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        upload(player)
        raise RuntimeError("the caller's transaction fails after the upload")
    import gc

    gc.collect()
    assert not Document.objects.exists() and stored_files(kyc_files) == []


def test_the_same_passport_on_two_accounts_shows_on_both(kyc_files: Path):
    ada, twin, other = PlayerFactory(), PlayerFactory(), PlayerFactory()
    upload(ada, issuing_country="GB", expires_on=NEXT_YEAR, number="P-123456")
    upload(twin, issuing_country="gb", expires_on=NEXT_YEAR, number="p123456")
    upload(other, issuing_country="GB", expires_on=NEXT_YEAR, number="P-999999")
    assert [d.player_id for d in documents.duplicate_hits(ada)] == [twin.pk]
    assert [d.player_id for d in documents.duplicate_hits(twin)] == [ada.pk]
    assert not documents.duplicate_hits(other).exists()
    assert AuditEvent.objects.filter(action="kyc.document_uploaded").latest("id").data["duplicate_of_players"] == []
    audited = AuditEvent.objects.filter(action="kyc.document_uploaded").order_by("id")[1]
    assert audited.data["duplicate_of_players"] == [ada.external_id]


# --- decisions ------------------------------------------------------------------------------------------------


def test_an_officer_verifies_a_gb_player_and_can_follows_at_once(registers):
    from tests.kyc.test_levels import register

    player = register("GB", "GBP")
    kyc = officer()
    assert can(player, "deposit", ask_registers=False).reasons == ["kyc_required"]
    passport = upload(player)
    with pytest.raises(DocumentInvalid):  # an identity document needs its expiry date
        documents.document_decide(actor=kyc, document=passport, decision="approve")
    documents.document_decide(
        actor=kyc, document=passport, decision="approve", issuing_country="GB", expires_on=NEXT_YEAR, number="X1"
    )
    assert KycProfile.objects.get(player=player).level == 1
    assert can(player, "deposit", ask_registers=False).allowed
    assert can(player, "withdraw", ask_registers=False).reasons == ["kyc_level_insufficient"]
    bill = upload(player, "utility_bill", files.pdf())
    documents.document_decide(actor=kyc, document=bill, decision="approve")
    assert KycProfile.objects.get(player=player).level == 2
    assert can(player, "withdraw", ask_registers=False).allowed
    assert set(Review.objects.filter(player=player).values_list("state", flat=True)) == {"closed"}
    decision = DocumentDecision.objects.filter(document=bill).get()
    assert (decision.level_before, decision.level_after, decision.decided_by) == (1, 2, kyc)
    with pytest.raises(DocumentNotPending) as twice:
        documents.document_decide(actor=kyc, document=bill, decision="approve")
    assert twice.value.code == "document_not_pending"


def test_a_rejection_needs_a_reason_code_and_a_revision_a_message_and_the_platform_hears_of_both():
    player = PlayerFactory(kyc_level=0)
    kyc = officer()
    blurred, wrong = upload(player), upload(player, "national_id")
    with pytest.raises(RejectionReasonRequired) as no_reason:
        documents.document_decide(actor=kyc, document=blurred, decision="reject", reason_code="because")
    assert no_reason.value.code == "rejection_reason_required"
    documents.document_decide(actor=kyc, document=blurred, decision="reject", reason_code="unreadable")
    with pytest.raises(RevisionMessageRequired) as no_message:
        documents.document_decide(actor=kyc, document=wrong, decision="request_revision", message="  ")
    assert no_message.value.code == "revision_message_required"
    documents.document_decide(
        actor=kyc, document=wrong, decision="request_revision", message="Send both sides of the card."
    )
    rejected = OutboxEvent.objects.get(type="kyc.document_rejected")
    assert rejected.data["reason"] == "unreadable" and rejected.data["document"] == blurred.pk
    revision = OutboxEvent.objects.get(type="kyc.revision_requested")
    assert revision.data["message"] == "Send both sides of the card."
    assert Document.objects.get(pk=wrong.pk).state == DocumentState.REVISION_REQUESTED
    assert KycProfile.objects.get(player=player).level == 0


def test_only_an_officer_of_the_review_decides_it():
    player = PlayerFactory(kyc_level=0)
    passport = upload(player)
    outsider = StaffUserFactory()
    with pytest.raises(ReviewNotPermitted) as refused:
        documents.document_decide(actor=outsider, document=passport, decision="reject", reason_code="unreadable")
    assert refused.value.code == "review_not_permitted"
    assign_perm("kyc.decide_review", outsider, passport.review)  # assigned this review only
    documents.document_decide(actor=outsider, document=passport, decision="reject", reason_code="unreadable")
    other = upload(PlayerFactory(kyc_level=0))
    with pytest.raises(ReviewNotPermitted):
        documents.document_decide(actor=outsider, document=other, decision="reject", reason_code="unreadable")


def test_level_3_waits_for_a_second_officer():
    player = PlayerFactory(kyc_level=0)
    first, second = officer("decide_review", "view_document"), officer("decide_review", "approve_level_3")
    for kind in ("passport", "utility_bill"):
        doc = upload(player, kind, files.pdf())
        extra = {"expires_on": NEXT_YEAR} if kind == "passport" else {}
        documents.document_decide(actor=first, document=doc, decision="approve", **extra)
    assert KycProfile.objects.get(player=player).level == 2
    funds = upload(player, "source_of_funds", files.pdf())
    documents.document_decide(actor=first, document=funds, decision="approve", message="salary and savings")
    approval = Approval.objects.get(kind="kyc.level_3", state=ApprovalState.PENDING)
    assert Document.objects.get(pk=funds.pk).state == DocumentState.PENDING
    assert KycProfile.objects.get(player=player).level == 2
    with pytest.raises(DocumentNotPending):
        documents.document_decide(actor=first, document=funds, decision="approve")
    with pytest.raises(SameApprover):
        approval_decide(actor=first, approval=approval, approve=True)
    approval_decide(actor=second, approval=approval, approve=True)
    assert Document.objects.get(pk=funds.pk).state == DocumentState.APPROVED
    assert KycProfile.objects.get(player=player).level == 3
    decision = DocumentDecision.objects.get(document=funds)
    assert (decision.decided_by, decision.second_officer) == (first, second)
    _ = ApprovalPending  # the approvals app refuses a second request for the same document (its own tests)


def test_a_vendor_decision_is_applied_once_and_never_gives_level_3():
    player = PlayerFactory(kyc_level=0)
    passport = upload(player, expires_on=NEXT_YEAR)
    assert documents.vendor_decide(vendor="acme", document=passport, decision="approve")[1] is True
    assert documents.vendor_decide(vendor="acme", document=passport, decision="reject")[1] is False
    assert KycProfile.objects.get(player=player).level == 1
    funds = upload(player, "source_of_funds", files.pdf())
    assert documents.vendor_decide(vendor="acme", document=funds, decision="approve")[1] is False
    assert Document.objects.get(pk=funds.pk).state == DocumentState.PENDING


def test_decisions_are_append_only_in_the_database():
    player = PlayerFactory(kyc_level=0)
    doc = upload(player)
    documents.document_decide(actor=officer(), document=doc, decision="reject", reason_code="unreadable")
    decision = DocumentDecision.objects.get()
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        DocumentDecision.objects.filter(pk=decision.pk).update(reason_code="incomplete")
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        DocumentDecision.objects.filter(pk=decision.pk).delete()


# --- expiry ---------------------------------------------------------------------------------------------------


def test_an_expired_passport_takes_the_level_with_it_and_the_platform_is_warned_first(registers):
    from tests.kyc.test_levels import register

    player = register("GB", "GBP")
    passport = upload(player)
    documents.document_decide(actor=officer(), document=passport, decision="approve", expires_on=NEXT_YEAR)
    assert can(player, "deposit", ask_registers=False).allowed
    today = date.today()
    Document.objects.filter(pk=passport.pk).update(expires_on=today + timedelta(days=10))
    assert documents.documents_expire(today=today) == {"expired": 0, "warned": 1}
    assert documents.documents_expire(today=today) == {"expired": 0, "warned": 0}
    assert OutboxEvent.objects.filter(type="kyc.document_expiring").count() == 1
    assert documents.documents_expire(today=today + timedelta(days=11)) == {"expired": 1, "warned": 0}
    assert Document.objects.get(pk=passport.pk).state == DocumentState.EXPIRED
    assert KycProfile.objects.get(player=player).level == 0
    # the registration requirement was met: GB's rule itself now refuses the deposit
    assert can(player, "deposit", ask_registers=False).reasons == ["kyc_level_insufficient"]
    assert OutboxEvent.objects.filter(type="kyc.document_expired").count() == 1
