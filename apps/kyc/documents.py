"""Documents: intake into a review, decisions (approve, reject with a reason code, ask for a revision), the
level they add up to, duplicates, enhanced due diligence through a second officer, and expiry.

One way in for the admin, the API, the vendor webhook and the beat jobs. Every decision is a DocumentDecision row
(append-only), an audit event and, where the platform must act, an outbox event, in one transaction with the level
change it causes (apps.kyc.levels.level_set), so the next ``can()`` sees it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import IO, Any

import pycountry
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.approvals.registry import ApprovalKind, register_kind
from apps.approvals.services import approval_request
from apps.audit.services import SYSTEM, AuditActor, audit_log
from apps.core.outbox import outbox_emit
from apps.kyc import crypto, levels
from apps.kyc.choices import (
    ADDRESS_DOCUMENTS,
    FUNDS_DOCUMENTS,
    IDENTITY_DOCUMENTS,
    NUMBERED_DOCUMENTS,
    Decision,
    DocumentState,
    DocumentType,
    Level,
    RejectionReason,
    RequirementState,
    Source,
)
from apps.kyc.errors import (
    DocumentExpired,
    DocumentInvalid,
    DocumentNotPending,
    RejectionReasonRequired,
    ReviewNotPermitted,
    RevisionMessageRequired,
)
from apps.kyc.intake import validate_upload
from apps.kyc.models import Document, DocumentDecision, KycProfile, Requirement, Review
from apps.kyc.storage import store_on_commit
from apps.players.models import Player
from apps.players.validation import clean_staff_text
from apps.staff.models import StaffUser
from apps.staff.permissions import can_act

LEVEL_3_KIND = "kyc.level_3"
DECIDE = "kyc.decide_review"
EXPIRY_WARNING_DAYS = 30


# --- facts read off a document ------------------------------------------------------------------------------


def _clean_facts(
    document_type: str, issuing_country: str, expires_on: date | None, number: str, *, today: date
) -> tuple[str, date | None, str]:
    fields: dict[str, list[str]] = {}
    if document_type not in DocumentType.values:
        raise DocumentInvalid(
            f"Unknown document type {document_type!r}.", fields={"type": [", ".join(DocumentType.values)]}
        )
    country = (issuing_country or "").strip().upper()
    if country and pycountry.countries.get(alpha_2=country) is None:
        fields["issuing_country"] = ["An ISO 3166 country code of two letters."]
    number = clean_staff_text("number", (number or "").strip())
    if number and document_type not in NUMBERED_DOCUMENTS:
        fields["number"] = ["Only identity documents carry a number."]
    if number and not crypto.normalised_number(number):
        fields["number"] = ["Letters and digits."]
    if len(number) > 64:
        fields["number"] = ["At most 64 characters."]
    if fields:
        raise DocumentInvalid("The document's details are not valid.", fields=fields)
    if expires_on is not None and expires_on < today:
        raise DocumentExpired(
            f"The document expired on {expires_on:%d %b %Y}.", fields={"expires_on": ["In the past."]}
        )
    return country, expires_on, number


# --- intake -------------------------------------------------------------------------------------------------


def review_for(player: Player, *, now: datetime) -> Review:
    """The player's open review (one at most), opened when the first document of a round arrives. Due by the
    open requirement's date when it is sooner than the SLA."""
    review = Review.objects.select_for_update().filter(player=player, state=Review.State.OPEN).first()
    if review is not None:
        return review
    requirement = (
        Requirement.objects.filter(player=player, state=RequirementState.OPEN).order_by("-level", "due_at").first()
    )
    due = now + timedelta(hours=settings.KYC_REVIEW_SLA_HOURS)
    if requirement is not None and now < requirement.due_at < due:
        due = requirement.due_at
    return Review.objects.create(
        player=player,
        requirement=requirement,
        level_sought=requirement.level if requirement is not None else Level.IDENTITY,
        due_at=due,
        created_at=now,
    )


def document_upload(
    *,
    actor: AuditActor | None,
    player: Player,
    document_type: str,
    data: bytes | IO[bytes],
    source: str,
    declared_name: str | None = None,
    declared_type: str | None = None,
    issuing_country: str = "",
    expires_on: date | None = None,
    number: str = "",
    api_client: str = "",
) -> Document:
    """Validate, store and queue a document for review. Refused before anything is kept (no row, no file):
    ``document_invalid``, ``document_expired``, ``file_too_large``, ``file_type_not_allowed``, ``file_corrupt``."""
    now = timezone.now()
    country, expires_on, number = _clean_facts(document_type, issuing_country, expires_on, number, today=now.date())
    if source not in Source.values:
        raise DocumentInvalid(f"Unknown source {source!r}.", fields={"source": [", ".join(Source.values)]})
    validated = validate_upload(data, declared_name=declared_name, declared_type=declared_type)
    with transaction.atomic():
        Player.objects.select_for_update().filter(pk=player.pk).first()  # one round of intake per player at a time
        review = review_for(player, now=now)
        name = store_on_commit(validated)
        document = Document.objects.create(
            player=player,
            review=review,
            type=document_type,
            file_name=name,
            file_kind=validated.kind,
            content_type=validated.content_type,
            size=validated.size,
            sha256=validated.sha256,
            pages=validated.pages,
            issuing_country=country,
            expires_on=expires_on,
            number=number or None,
            number_hash=crypto.number_hash(document_type, country, number),
            source=source,
            uploaded_at=now,
            uploaded_by=actor if isinstance(actor, StaffUser) else None,
            api_client=api_client,
        )
        duplicates = list(duplicates_of(document).values_list("player__external_id", flat=True)[:20])
        audit_log(
            actor=actor,
            action="kyc.document_uploaded",
            target=player,
            data={
                "document": document.pk,
                "type": document_type,
                "source": source,
                "kind": validated.kind,
                "size": validated.size,
                "sha256": validated.sha256,
                "upload_sha256": validated.upload_sha256,
                "review": review.pk,
                "duplicate_of_players": duplicates,
            },
        )
        return document


def duplicates_of(document: Document) -> QuerySet[Document]:
    """The same document (type, country, number) on other accounts: found by the keyed hash, never the number."""
    if not document.number_hash:
        return Document.objects.none()
    return (
        Document.objects.filter(number_hash=document.number_hash)
        .exclude(player_id=document.player_id)
        .select_related("player")
        .order_by("-uploaded_at")
    )


def duplicate_hits(player: Player) -> QuerySet[Document]:
    """Every other account holding one of this player's numbered documents (both player pages show it)."""
    # the player's hashes first (a few rows), then an index lookup of each: as one semi-join the planner can take
    # a table where most documents carry no number ('') for one that matches everything, and sort it all
    hashes = sorted(
        set(Document.objects.filter(player=player).exclude(number_hash="").values_list("number_hash", flat=True))
    )
    if not hashes:
        return Document.objects.none()
    return (
        Document.objects.filter(number_hash__in=hashes)
        .exclude(player=player)
        .select_related("player")
        .order_by("-uploaded_at")
    )


# --- the level the documents add up to ------------------------------------------------------------------------


def level_from_documents(player: Player, *, today: date, extra: Document | None = None) -> int:
    """1 with an approved identity document, 2 with an approved proof of address too, 3 with an approved source of
    funds or payslip too (approved with a second officer). Expired documents count for nothing."""
    approved = set(
        Document.objects.filter(player=player, state=DocumentState.APPROVED)
        .exclude(expires_on__lt=today)
        .values_list("type", flat=True)
    )
    if extra is not None:
        approved.add(extra.type)
    level = Level.UNVERIFIED
    if approved & IDENTITY_DOCUMENTS:
        level = Level.IDENTITY
        if approved & ADDRESS_DOCUMENTS:
            level = Level.FULL
            if approved & FUNDS_DOCUMENTS:
                level = Level.ENHANCED
    return int(level)


def _current_level(player: Player) -> int:
    return KycProfile.objects.filter(player=player).values_list("level", flat=True).first() or 0


# --- decisions ----------------------------------------------------------------------------------------------


def _require_decider(actor: StaffUser, review: Review | None) -> None:
    if not can_act(actor, DECIDE, review):
        raise ReviewNotPermitted(
            "You may not decide this review: it is not assigned to you or your team.",
            fields={"permission": [DECIDE]},
        )


def document_decide(
    *,
    actor: StaffUser,
    document: Document,
    decision: str,
    reason_code: str = "",
    message: str = "",
    issuing_country: str | None = None,
    expires_on: date | None = None,
    number: str | None = None,
) -> Document:
    """An officer's decision on a pending document. ``approve`` may record what the officer read off it
    (country, expiry, number); an approval that would raise the player to level 3 waits for a second officer
    (maker-checker ``kyc.level_3``: the document stays pending until then). ``reject`` needs a reason code,
    ``request_revision`` a message for the player."""
    if decision not in (Decision.APPROVE, Decision.REJECT, Decision.REQUEST_REVISION):
        raise DocumentInvalid(
            f"Unknown decision {decision!r}.", fields={"decision": ["approve, reject, request_revision"]}
        )
    message = clean_staff_text("message", (message or "").strip(), multiline=True)
    with transaction.atomic():
        document = (
            Document.objects.select_for_update(of=("self",)).select_related("player", "review").get(pk=document.pk)
        )
        _require_decider(actor, document.review)
        if document.state != DocumentState.PENDING:
            raise DocumentNotPending(f"This document is {document.get_state_display().lower()}, not pending.")
        from apps.approvals.models import Approval, ApprovalState

        if Approval.objects.filter(kind=LEVEL_3_KIND, target_id=str(document.pk), state=ApprovalState.PENDING).exists():
            raise DocumentNotPending("This document's approval is waiting for a second officer.")
        now = timezone.now()
        if decision == Decision.REJECT:
            if reason_code not in RejectionReason.values:
                raise RejectionReasonRequired(
                    "Choose why the document is rejected.", fields={"reason_code": list(RejectionReason.values)}
                )
            return _close(actor, document, DocumentState.REJECTED, Decision.REJECT, reason_code, message, now)
        if decision == Decision.REQUEST_REVISION:
            if not message:
                raise RevisionMessageRequired("Tell the player what to send again.", fields={"message": ["Required."]})
            return _close(actor, document, DocumentState.REVISION_REQUESTED, decision, "", message, now)
        # approve: what the officer read off it, checked as at intake
        country, expiry, read_number = _clean_facts(
            document.type,
            document.issuing_country if issuing_country is None else issuing_country,
            document.expires_on if expires_on is None else expires_on,
            (document.number or "") if number is None else number,
            today=now.date(),
        )
        if document.type in IDENTITY_DOCUMENTS and expiry is None:
            raise DocumentInvalid("Enter the expiry date read off the document.", fields={"expires_on": ["Required."]})
        document.issuing_country, document.expires_on = country, expiry
        document.number = read_number or None  # type: ignore[assignment]  # an encrypted text field
        document.number_hash = crypto.number_hash(document.type, country, read_number)
        document.save(update_fields=["issuing_country", "expires_on", "number", "number_hash"])
        target_level = level_from_documents(document.player, today=now.date(), extra=document)
        if target_level >= Level.ENHANCED and _current_level(document.player) < Level.ENHANCED:
            approval_request(
                actor=actor,
                kind=LEVEL_3_KIND,
                target=document,
                reason=message or f"{document.get_type_display()} approved: enhanced due diligence",
                payload={"document": document.pk, "level": int(target_level)},
                player_id=document.player_id,
            )
            audit_log(
                actor=actor,
                action="kyc.level_3_requested",
                target=document.player,
                data={"document": document.pk, "type": document.type},
            )
            return document
        return _close(actor, document, DocumentState.APPROVED, Decision.APPROVE, "", message, now)


def _close(
    actor: AuditActor,
    document: Document,
    state: str,
    decision: str,
    reason_code: str,
    message: str,
    now: datetime,
    *,
    second_officer: StaffUser | None = None,
    vendor: str = "",
) -> Document:
    """Record a decision and what follows from it (the level, the review, the platform's event)."""
    player = document.player
    before = _current_level(player)
    document.state, document.decided_at = state, now
    document.rejection_reason = reason_code if state == DocumentState.REJECTED else ""
    document.message = message
    document.save(update_fields=["state", "decided_at", "rejection_reason", "message"])
    after = level_from_documents(player, today=now.date())
    if vendor and state == DocumentState.APPROVED:
        after = max(after, before)  # a vendor's approval never lowers what staff established
    if after != before and (after > before or state == DocumentState.EXPIRED):
        levels.level_set(actor=actor, player=player, level=after, why=f"document {document.pk} {decision}")
    else:
        after = before
    DocumentDecision.objects.create(
        document=document,
        decision=decision,
        reason_code=reason_code,
        message=message,
        decided_by=actor if isinstance(actor, StaffUser) else None,
        second_officer=second_officer,
        vendor=vendor,
        level_before=before,
        level_after=after,
        at=now,
    )
    audit_log(
        actor=actor,
        action=f"kyc.document_{state}",
        target=player,
        data={
            "document": document.pk,
            "type": document.type,
            "reason_code": reason_code,
            "message": message,
            "level_before": before,
            "level_after": after,
            **({"second_officer": second_officer.get_username()} if second_officer else {}),
            **({"vendor": vendor} if vendor else {}),
        },
    )
    events: dict[str, str] = {
        DocumentState.REJECTED: "kyc.document_rejected",
        DocumentState.REVISION_REQUESTED: "kyc.revision_requested",
        DocumentState.EXPIRED: "kyc.document_expired",
    }
    event = events.get(state)
    if event:
        outbox_emit(
            event,
            key=player.external_id,
            data={
                "player": player.external_id,
                "document": document.pk,
                "type": document.type,
                "reason": reason_code,
                "message": message,
            },
        )
    _close_review_if_done(document.review_id, now)
    return document


def _close_review_if_done(review_id: int | None, now: datetime) -> None:
    if review_id is None:
        return
    if not Document.objects.filter(review_id=review_id, state=DocumentState.PENDING).exists():
        Review.objects.filter(pk=review_id, state=Review.State.OPEN).update(state=Review.State.CLOSED, closed_at=now)


# --- level 3: the second officer (apps.approvals) ----------------------------------------------------------------


def _apply_level_3(approval: Any, actor: StaffUser) -> None:
    document = Document.objects.select_for_update().select_related("player").get(pk=approval.target_id)
    if document.state != DocumentState.PENDING:
        raise DocumentNotPending(f"This document is {document.get_state_display().lower()}, not pending.")
    _close(
        approval.maker,
        document,
        DocumentState.APPROVED,
        Decision.APPROVE,
        "",
        approval.reason,
        timezone.now(),
        second_officer=actor,
    )


def _reject_level_3(approval: Any, actor: StaffUser) -> None:
    """The document goes back to the first officer, still pending (the reason is on the approval)."""
    document = Document.objects.get(pk=approval.target_id)
    audit_log(
        actor=actor,
        action="kyc.level_3_refused",
        target=document.player,
        data={"document": document.pk, "reason": approval.decision_reason},
    )


def _level_3_review_url(approval: Any) -> str | None:
    """The inbox links a level-3 request to the review page of its document (documents have no page of their own)."""
    from django.urls import reverse

    review_id = Document.objects.filter(pk=approval.target_id).values_list("review_id", flat=True).first()
    return reverse("admin:kyc_review_change", args=[review_id]) if review_id else None


def register() -> None:
    """The ``kyc.level_3`` maker-checker kind (KycConfig.ready)."""
    register_kind(
        ApprovalKind(
            code=LEVEL_3_KIND,
            label="Enhanced due diligence (KYC level 3)",
            # the maker's right to decide this review (an object grant to an assigned officer counts) was checked by
            # document_decide before it asked; the approvals service checks role-wide or on the target, the
            # document, which a grant on the review does not reach. Every reviewer views documents role-wide.
            request_permission="kyc.view_document",
            decide_permission="kyc.approve_level_3",
            apply=_apply_level_3,
            on_reject=_reject_level_3,
            target_url=_level_3_review_url,
        )
    )


# --- vendors and expiry --------------------------------------------------------------------------------------


def vendor_decide(
    *, vendor: str, document: Document, decision: str, reason_code: str = "", message: str = ""
) -> tuple[Document, bool]:
    """A verification vendor's decision (the webhook): applied once, returns (document, applied). A decision on a
    document no longer pending is not applied again. A vendor never gives level 3 (that needs two officers)."""
    with transaction.atomic():
        document = Document.objects.select_for_update().select_related("player").get(pk=document.pk)
        if document.state != DocumentState.PENDING:
            return document, False
        now = timezone.now()
        actor = _VendorActor(vendor)
        if decision == Decision.REJECT:
            code = reason_code if reason_code in RejectionReason.values else RejectionReason.NOT_ACCEPTED
            return _close(actor, document, DocumentState.REJECTED, decision, code, message, now, vendor=vendor), True
        if decision == Decision.REQUEST_REVISION:
            text = message or "Please send the document again."
            return _close(
                actor, document, DocumentState.REVISION_REQUESTED, decision, "", text, now, vendor=vendor
            ), True
        if document.type in FUNDS_DOCUMENTS:
            return document, False  # enhanced due diligence stays with two officers
        return _close(actor, document, DocumentState.APPROVED, Decision.APPROVE, "", message, now, vendor=vendor), True


class _VendorActor:
    def __init__(self, name: str) -> None:
        self.name = name

    def audit_identity(self) -> tuple[str, str, str]:
        from apps.audit.choices import ActorType

        return (ActorType.SYSTEM, "", f"vendor:{self.name}")


def documents_expire(*, today: date | None = None, batch: int = 500) -> dict[str, int]:
    """Beat (daily): approved documents past their expiry date are expired (the level drops at once if they
    carried it); those expiring within 30 days are announced once (``kyc.document_expiring``). Idempotent."""
    today = today or timezone.localdate()
    expired = warned = 0
    for pk in list(
        Document.objects.filter(state=DocumentState.APPROVED, expires_on__lt=today).values_list("pk", flat=True)[:batch]
    ):
        with transaction.atomic():
            document = Document.objects.select_for_update().select_related("player").get(pk=pk)
            if document.state != DocumentState.APPROVED:
                continue
            now = timezone.now()
            _close(SYSTEM, document, DocumentState.EXPIRED, Decision.EXPIRE, "", "The document has expired.", now)
            expired += 1
    soon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    for document in (
        Document.objects.filter(
            state=DocumentState.APPROVED, expires_on__gte=today, expires_on__lte=soon, expiry_warned_at__isnull=True
        )
        .select_related("player")
        .order_by("expires_on")[:batch]
    ):
        with transaction.atomic():
            if not Document.objects.filter(pk=document.pk, expiry_warned_at__isnull=True).update(
                expiry_warned_at=timezone.now()
            ):
                continue
            outbox_emit(
                "kyc.document_expiring",
                key=document.player.external_id,
                data={
                    "player": document.player.external_id,
                    "document": document.pk,
                    "type": document.type,
                    "expires_on": document.expires_on,
                },
            )
            audit_log(
                actor=SYSTEM,
                action="kyc.document_expiring",
                target=document.player,
                data={"document": document.pk, "expires_on": str(document.expires_on)},
            )
            warned += 1
    return {"expired": expired, "warned": warned}
