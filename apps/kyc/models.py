"""KYC: each player's verification level, what is required of them and by when, their documents, the reviews
staff work through, and every decision (append-only).

The level and the open requirements are eligibility facts (apps/kyc/checks.py reads them in ``can()``'s one
query): a decision changes what the player may do on the very next check.
"""

from __future__ import annotations

from typing import Any

import pgtrigger
from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from encrypted_fields.fields import EncryptedTextField

from apps.kyc import crypto
from apps.kyc.choices import (
    Decision,
    DocumentState,
    DocumentType,
    Level,
    RejectionReason,
    RequirementState,
    Source,
    Trigger,
)


class EncryptedText(EncryptedTextField):  # type: ignore[misc]
    """Text encrypted with ``KYC_FIELD_KEYS`` (read per use: a rotation needs no restart of this module)."""

    @property
    def f(self) -> MultiFernet:  # type: ignore[override]
        return crypto.fernet()

    def get_prep_value(self, value: Any) -> Any:
        """Encrypt what is saved (the package's own version passes the value through ``to_python`` first, which
        here would read a plain number as an unreadable token)."""
        if value is None or value == "":
            return None
        return self.f.encrypt(str(value).encode()).decode()

    def to_python(self, value: Any) -> Any:
        if value is None or not isinstance(value, str) or hasattr(self, "_already_decrypted"):
            return value
        try:
            return self.f.decrypt(value.encode()).decode()
        except InvalidToken:
            crypto.log.error("an encrypted KYC value could not be decrypted with any KYC_FIELD_KEYS key")
            return crypto.UNREADABLE

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, _path, args, kwargs = super().deconstruct()
        return name, "apps.kyc.models.EncryptedText", args, kwargs


class KycProfile(models.Model):
    """A player's verification level (one row per player; none yet reads as level 0)."""

    player = models.OneToOneField("players.Player", on_delete=models.PROTECT, primary_key=True, related_name="kyc")
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.UNVERIFIED)
    level_changed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "KYC profile"
        constraints = [models.CheckConstraint(condition=models.Q(level__lte=3), name="kyc_profile_level_range")]

    def __str__(self) -> str:
        return f"KYC level {self.level}"


class Requirement(models.Model):
    """Something the player must prove, at a level, by a date. While open it restricts ``restricts`` at once and
    ``restricts_when_overdue`` once ``due_at`` has passed; met when the player's level reaches ``level``."""

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="kyc_requirements")
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    state = models.CharField(max_length=8, choices=RequirementState.choices, default=RequirementState.OPEN)
    restricts = ArrayField(models.CharField(max_length=12), default=list, blank=True)
    restricts_when_overdue = ArrayField(models.CharField(max_length=12), default=list, blank=True)
    due_at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True, help_text="When the overdue sweep restricted the player")

    class Meta:
        constraints = [
            # one open requirement per player and trigger: a trigger firing again is the same requirement
            models.UniqueConstraint(
                fields=["player", "trigger"], condition=models.Q(state="open"), name="kyc_requirement_one_open"
            ),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=3), name="kyc_requirement_level"),
        ]
        indexes = [
            models.Index(fields=["player"], name="kyc_requirement_open_idx", condition=models.Q(state="open")),
            models.Index(fields=["due_at"], name="kyc_requirement_due_idx", condition=models.Q(state="open")),
        ]

    def __str__(self) -> str:
        return f"level {self.level} ({self.get_trigger_display()}), due {self.due_at:%Y-%m-%d %H:%M}"


class Review(models.Model):
    """The unit of a KYC Officer's work: a player's documents waiting for a decision, due by ``due_at``."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="kyc_reviews")
    requirement = models.ForeignKey(Requirement, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    level_sought = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.IDENTITY)
    due_at = models.DateTimeField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="kyc_reviews"
    )
    team = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT, related_name="kyc_reviews")
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [
            ("decide_review", "Decide KYC documents"),
            ("view_all_reviews", "See every KYC review (a KYC lead)"),
            ("assign_review", "Assign KYC reviews"),
            ("approve_level_3", "Give the second approval of enhanced due diligence (level 3)"),
            ("claim_review", "Take the next KYC review from the queue"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["player"], condition=models.Q(state="open"), name="kyc_review_one_open")
        ]
        indexes = [
            # the queue: open reviews by due date (and per assignee)
            models.Index(fields=["due_at", "id"], name="kyc_review_queue_idx", condition=models.Q(state="open")),
            models.Index(
                fields=["assignee", "due_at"], name="kyc_review_assignee_idx", condition=models.Q(state="open")
            ),
        ]

    def __str__(self) -> str:
        return f"KYC review #{self.pk}"


class Document(models.Model):
    """A document the player sent (through the platform, an officer's upload or a vendor). The file is in the
    KYC storage under a generated name; the number is encrypted, with a keyed hash to find duplicates."""

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="kyc_documents")
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.PROTECT, related_name="documents")
    type = models.CharField(max_length=20, choices=DocumentType.choices)
    state = models.CharField(max_length=20, choices=DocumentState.choices, default=DocumentState.PENDING)
    # the stored file: a generated name, never the upload's
    file_name = models.CharField(max_length=200, unique=True)
    file_kind = models.CharField(max_length=4)  # jpeg, png, pdf (sniffed)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    pages = models.PositiveSmallIntegerField(null=True, blank=True)
    # what it says
    issuing_country = models.CharField(max_length=2, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    number = EncryptedText(blank=True, null=True)
    number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    # where it came from
    source = models.CharField(max_length=8, choices=Source.choices)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    api_client = models.CharField(max_length=100, blank=True)
    vendor_reference = models.CharField(max_length=100, blank=True)
    # the latest decision (the full record is DocumentDecision)
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=24, choices=RejectionReason.choices, blank=True)
    message = models.CharField(max_length=1000, blank=True, help_text="What the player is told")
    expiry_warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["player", "-uploaded_at"], name="kyc_document_player_idx"),
            models.Index(fields=["expires_on"], name="kyc_document_expiry_idx", condition=models.Q(state="approved")),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} #{self.pk} ({self.get_state_display().lower()})"


class DocumentDecision(models.Model):
    """Every decision on a document, by staff, a vendor or the expiry sweep. Append-only in the database."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    reason_code = models.CharField(max_length=24, blank=True)
    message = models.CharField(max_length=1000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    second_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    vendor = models.CharField(max_length=100, blank=True)
    level_before = models.PositiveSmallIntegerField()
    level_after = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = [pgtrigger.Protect(name="kyc_decision_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} of document #{self.document_id}"


class Vendor(models.Model):
    """An external verification vendor that posts its decisions to the vendor webhook, signed with ``secret``."""

    slug = models.SlugField(max_length=40, unique=True, help_text="In the webhook's URL: /api/v1/kyc/vendors/<slug>/")
    name = models.CharField(max_length=100)
    secret = EncryptedText(help_text="The shared HMAC-SHA256 key (stored encrypted)")
    active = models.BooleanField(default=True)
    tolerance_seconds = models.PositiveIntegerField(
        default=300, help_text="A signed timestamp older (or newer) than this is refused as stale"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class VendorEvent(models.Model):
    """Every vendor event accepted, by its id: a replay of the same id is refused, so nothing is applied twice."""

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="events")
    event_id = models.CharField(max_length=100)
    received_at = models.DateTimeField(default=timezone.now)
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=40, blank=True)
    payload_sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vendor", "event_id"], name="kyc_vendor_event_once")]
        triggers = [
            pgtrigger.Protect(name="kyc_vendor_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.vendor_id}:{self.event_id}"
