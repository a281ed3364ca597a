"""Players: the platform's customers. Personal data, status and capability blocks, identity keys, notes,
tags and logins. Closing an account keeps every row (AML retention: at least five years)."""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone

from apps.players.choices import BlockAuthority, Capability, Gender, PlayerStatus, VipTier, Visibility

DEFAULT_BRAND_CODE = "default"


class BrandManager(models.Manager["Brand"]):
    def default(self) -> Brand:
        """The brand of players and API clients that predate brands (created by the migration if missing)."""
        brand, _ = self.get_or_create(code=DEFAULT_BRAND_CODE, defaults={"name": "Default brand"})
        return brand


class Brand(models.Model):
    """A casino brand (site, skin) of the operator. A player belongs to one brand; an API client is bound to one
    or more and sees only their players. Protection follows the person across brands (identity keys)."""

    code = models.SlugField(max_length=40, unique=True, help_text="Stable short name, e.g. lucky-spins")
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True, help_text="Inactive: no new registrations through the API")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = BrandManager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Player(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="players")
    external_id = models.CharField(max_length=64, help_text="The platform's id for the player (unique)")
    username = models.CharField(max_length=64)
    email = models.EmailField(max_length=254, help_text="Unique within the brand (a person may play at several)")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    # db_default: rows written by COPY (demo data, benchmarks) that name no gender get "not recorded" too
    gender = models.CharField(
        max_length=10, choices=Gender.choices, blank=True, default="", db_default="", help_text="As the player gave it"
    )
    phone = models.CharField(max_length=16, blank=True, help_text="E.164, e.g. +447911123456")
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, help_text="Residence, ISO 3166-1 alpha-2")
    region = models.CharField(max_length=6, blank=True, help_text="ISO 3166-2 (US states, Canadian provinces)")
    currency = models.CharField(max_length=3, help_text="ISO 4217")
    language = models.CharField(max_length=8, default="en")
    registration_ip = models.GenericIPAddressField(null=True, blank=True)
    registration_ip_country = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    last_login_ip = models.GenericIPAddressField(null=True, blank=True)
    vip_tier = models.CharField(max_length=10, choices=VipTier.choices, blank=True)
    affiliate_tag = models.CharField(max_length=64, blank=True)
    marketing_email = models.BooleanField(default=False)
    marketing_email_at = models.DateTimeField(null=True, blank=True)
    marketing_sms = models.BooleanField(default=False)
    marketing_sms_at = models.DateTimeField(null=True, blank=True)
    marketing_phone = models.BooleanField(default=False)
    marketing_phone_at = models.DateTimeField(null=True, blank=True)
    marketing_post = models.BooleanField(default=False)
    marketing_post_at = models.DateTimeField(null=True, blank=True)
    terms_version = models.CharField(max_length=20, blank=True)
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    # status and capability blocks: changed only by services, with a reason and an audit event
    status = models.CharField(max_length=10, choices=PlayerStatus.choices, default=PlayerStatus.ACTIVE)
    status_reason = models.CharField(max_length=500, blank=True)
    blocked_deposit = models.BooleanField(default=False)
    blocked_bet = models.BooleanField(default=False)
    blocked_withdrawal = models.BooleanField(default=False)
    blocked_bonus = models.BooleanField(default=False)
    blocked_marketing = models.BooleanField(default=False)
    # identity keys (keyed hashes, see identity.py): the same person across accounts
    identity_fingerprint = models.CharField(max_length=64, editable=False)
    email_hash = models.CharField(max_length=64, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    tags: models.ManyToManyField[Tag, Any] = models.ManyToManyField("Tag", blank=True, related_name="players")

    class Meta:
        ordering = ("-id",)
        permissions = [
            ("change_player_status", "Can suspend, block, close or reactivate a player"),
            ("change_player_blocks", "Can block or unblock a player's capabilities"),
            ("change_player_tags", "Can change a player's tags"),
        ]
        indexes = [
            models.Index(fields=["identity_fingerprint"], name="player_identity_idx"),
            models.Index(fields=["email_hash"], name="player_email_hash_idx"),
            models.Index(fields=["phone_hash"], name="player_phone_hash_idx"),
            models.Index(fields=["status", "-id"], name="player_status_idx"),
            models.Index(fields=["country", "-id"], name="player_country_idx"),
            models.Index(fields=["brand", "-id"], name="player_brand_idx"),
            # the admin's search compiles icontains to UPPER(col) LIKE '%x%': trigram indexes on UPPER(col)
            GinIndex(OpClass(Upper("email"), name="gin_trgm_ops"), name="player_email_trgm"),
            GinIndex(OpClass(Upper("username"), name="gin_trgm_ops"), name="player_username_trgm"),
            GinIndex(OpClass(Upper("first_name"), name="gin_trgm_ops"), name="player_first_name_trgm"),
            GinIndex(OpClass(Upper("last_name"), name="gin_trgm_ops"), name="player_last_name_trgm"),
            GinIndex(OpClass(Upper("external_id"), name="gin_trgm_ops"), name="player_external_id_trgm"),
            GinIndex(OpClass(Upper("phone"), name="gin_trgm_ops"), name="player_phone_trgm"),
        ]
        constraints = [
            # The eligibility check reads the player by external_id: the unique index carries every column it
            # needs, so the check is an index-only scan (no heap visit) once the pages are all-visible.
            models.UniqueConstraint(
                fields=["external_id"],
                include=[
                    "id",
                    "status",
                    "blocked_deposit",
                    "blocked_bet",
                    "blocked_withdrawal",
                    "blocked_bonus",
                    "blocked_marketing",
                    "date_of_birth",
                    "country",
                    "region",
                    "currency",
                    "marketing_email",
                    "marketing_sms",
                    "marketing_phone",
                    "marketing_post",
                    "identity_fingerprint",  # exclusions follow the person (apps.responsible)
                    "brand",  # API clients see only their brands' players
                ],
                name="player_external_id_eligibility",
            ),
            # per brand, so that one brand's client cannot learn from a 409 who plays at another brand
            models.UniqueConstraint(Lower("email"), "brand", name="player_email_per_brand"),
            models.CheckConstraint(condition=models.Q(status__in=PlayerStatus.values), name="player_status_valid"),
            models.CheckConstraint(
                condition=models.Q(phone="") | models.Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"), name="player_phone_e164"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.external_id})"


class Tag(models.Model):
    name = models.SlugField(max_length=40, unique=True)

    def __str__(self) -> str:
        return self.name


class PlayerNote(models.Model):
    """Staff notes: never exposed to the platform; compliance notes only to staff with the compliance permission."""

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey("staff.StaffUser", on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    visibility = models.CharField(max_length=12, choices=Visibility.choices, default=Visibility.GENERAL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["player", "-created_at"], name="player_note_idx")]

    def __str__(self) -> str:
        return f"note #{self.pk} on {self.player_id}"


RESTRICTION_GUARD = """
    IF NEW.player_id IS DISTINCT FROM OLD.player_id OR NEW.what IS DISTINCT FROM OLD.what
       OR NEW.authority IS DISTINCT FROM OLD.authority
       OR NEW.reason IS DISTINCT FROM OLD.reason OR NEW.visibility IS DISTINCT FROM OLD.visibility
       OR NEW.placed_by_id IS DISTINCT FROM OLD.placed_by_id OR NEW.placed_at IS DISTINCT FROM OLD.placed_at THEN
        RAISE EXCEPTION 'restriction %: who imposed it, on what authority and why never change', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.lifted_at IS NOT NULL THEN
        RAISE EXCEPTION 'restriction % is lifted: it is history now', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.lifted_at IS NOT NULL AND OLD.authority IN ('compliance', 'responsible_gambling') AND (
        NEW.lift_requested_by_id IS NULL OR NEW.lifted_by_id IS NULL
        OR NEW.lifted_by_id = NEW.lift_requested_by_id) THEN
        RAISE EXCEPTION 'restriction % needs two different people to lift', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
"""


class PlayerRestriction(models.Model):
    """A status other than active, or a capability block: who imposed it, on what authority and why.

    The booleans and the status on ``Player`` stay the eligibility facts (one indexed row); this is the record
    behind them. Lifting a compliance or responsible-gambling restriction needs that authority and a second
    person (requested by one, confirmed by another); the database refuses anything else, and rows are never
    deleted.
    """

    STATUS = "status"
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="restrictions")
    what = models.CharField(max_length=12, help_text="status, or the capability blocked")
    status = models.CharField(max_length=10, blank=True, choices=PlayerStatus.choices)
    authority = models.CharField(max_length=24, choices=BlockAuthority.choices)
    reason = models.CharField(max_length=500)
    visibility = models.CharField(max_length=12, choices=Visibility.choices, default=Visibility.GENERAL)
    placed_by = models.ForeignKey("staff.StaffUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)
    lift_requested_by = models.ForeignKey(
        "staff.StaffUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_requested_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.CharField(max_length=500, blank=True)
    lifted_by = models.ForeignKey("staff.StaffUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-placed_at",)
        permissions = [
            ("view_compliance", "See compliance reasons and notes (AML reviews: never to the player)"),
            ("act_compliance", "Act (impose, lift) for compliance authority"),
            ("act_responsible_gambling", "Act (impose, lift) for responsible-gambling authority"),
            ("act_finance", "Act (impose, lift) for finance authority"),
            ("act_support", "Act (impose, lift) for support authority"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["player", "what"], condition=models.Q(lifted_at__isnull=True), name="player_restriction_one"
            ),
            models.CheckConstraint(
                condition=models.Q(what="status", status__in=PlayerStatus.values[1:])
                | models.Q(what__in=Capability.values, status=""),
                name="player_restriction_what_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(authority__in=BlockAuthority.values), name="player_restriction_authority_valid"
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="player_restriction_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Trigger(
                name="player_restriction_guard",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                func=RESTRICTION_GUARD,
            ),
        ]

    def __str__(self) -> str:
        what = self.get_status_display() if self.what == self.STATUS else f"{self.what} blocked"
        return f"{what} ({self.get_authority_display()})"


class PlayerLogin(models.Model):
    """Every login the platform reports, allowed or not. Append-only in the database: this table, not the audit
    trail, is the record of platform logins (they are too many to serialise through the audit chain)."""

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="logins")
    at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    ip_country = models.CharField(max_length=2, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    device_id = models.CharField(max_length=128, blank=True)
    allowed = models.BooleanField()
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("-at",)
        indexes = [
            models.Index(fields=["player", "-at"], name="player_login_idx"),
            models.Index(fields=["device_id"], name="player_login_device_idx"),
            models.Index(fields=["ip"], name="player_login_ip_idx"),
        ]
        triggers = [pgtrigger.Protect(name="player_login_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"login of {self.player_id} at {self.at:%Y-%m-%d %H:%M}"
