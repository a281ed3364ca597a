"""Player protection: exclusions (time-outs, self-exclusions, operator exclusions), limits, flags, interactions,
national register checks.

The database keeps the history honest: no row here is ever deleted; the terms of an exclusion never change
once written (a correction supersedes the row, with two staff members); a player's own time-out or
self-exclusion can only be released at or after its end, never earlier. Interactions and register checks are
append-only.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from apps.responsible.choices import (
    ChangeStatus,
    CoverKind,
    CoverLink,
    ExclusionKind,
    FlagKind,
    InteractionChannel,
    LimitKind,
    LimitPeriod,
    LimitSource,
    RegisterOutcome,
)

EXCLUSION_GUARD = """
    IF NEW.player_id IS DISTINCT FROM OLD.player_id
       OR NEW.identity_fingerprint IS DISTINCT FROM OLD.identity_fingerprint
       OR NEW.kind IS DISTINCT FROM OLD.kind OR NEW.term IS DISTINCT FROM OLD.term
       OR NEW.starts_at IS DISTINCT FROM OLD.starts_at OR NEW.ends_at IS DISTINCT FROM OLD.ends_at
       OR NEW.capabilities IS DISTINCT FROM OLD.capabilities OR NEW.reason IS DISTINCT FROM OLD.reason
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'the terms of exclusion % cannot change (a correction supersedes it)', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.superseded_by_id IS NOT NULL AND NEW.superseded_by_id IS DISTINCT FROM OLD.superseded_by_id THEN
        RAISE EXCEPTION 'exclusion % is already superseded', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.released_at IS DISTINCT FROM OLD.released_at AND OLD.kind <> 'operator' AND (
        OLD.released_at IS NOT NULL OR NEW.released_at IS NULL
        OR NEW.released_at < coalesce(OLD.ends_at, 'infinity'::timestamptz)
    ) THEN
        RAISE EXCEPTION 'a player''s own exclusion % cannot be shortened', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    -- a correction supersedes a player's own exclusion: the replacement keeps the person, kind and start, and
    -- neither ends nor releases it before the time of the correction
    IF OLD.superseded_by_id IS NULL AND NEW.superseded_by_id IS NOT NULL AND OLD.kind <> 'operator' THEN
        SELECT * INTO replacement FROM responsible_exclusion WHERE id = NEW.superseded_by_id;
        IF replacement.player_id IS DISTINCT FROM OLD.player_id OR replacement.kind IS DISTINCT FROM OLD.kind
           OR replacement.starts_at IS DISTINCT FROM OLD.starts_at
           OR replacement.identity_fingerprint IS DISTINCT FROM OLD.identity_fingerprint
           OR replacement.superseded_by_id IS NOT NULL
           OR coalesce(replacement.ends_at, 'infinity'::timestamptz) <= now()
           OR (replacement.released_at IS NOT NULL AND (replacement.released_at <= now()
               OR replacement.released_at < coalesce(replacement.ends_at, 'infinity'::timestamptz))) THEN
            RAISE EXCEPTION 'a correction cannot end or release exclusion %', OLD.id USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
"""


class Exclusion(models.Model):
    """A time-out, a self-exclusion or an operator exclusion (or, with ``capabilities``, an operator block).

    In force while ``starts_at <= now`` and ``released_at`` is empty or in the future and nothing superseded
    it. It follows the person: every account with the same identity fingerprint is excluded too.
    """

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="exclusions")
    identity_fingerprint = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=16, choices=ExclusionKind.choices)
    term = models.CharField(max_length=12, blank=True, help_text="e.g. 72h, 6m, 1y, permanent")
    capabilities = ArrayField(
        models.CharField(max_length=12),
        default=list,
        blank=True,
        help_text="Operator blocks only: the actions refused (empty: everything but withdrawals)",
    )
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: permanent or indefinite")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    api_client = models.CharField(max_length=16, blank=True)
    # lifecycle: the only columns that change (see EXCLUSION_GUARD)
    released_at = models.DateTimeField(null=True, blank=True, help_text="In force until then; empty: until further")
    return_requested_at = models.DateTimeField(null=True, blank=True)
    lift_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_requested_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.CharField(max_length=500, blank=True)
    lift_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    superseded_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrects"
    )

    class Meta:
        permissions = [
            ("exclude_player", "Impose an operator exclusion or block"),
            ("request_lift", "Ask to lift an operator exclusion (maker)"),
            ("decide_lift", "Approve lifting an operator exclusion (checker)"),
            ("correct_exclusion", "Request or apply an exclusion correction (two staff members)"),
        ]
        indexes = [models.Index(fields=["player", "-starts_at"], name="rg_exclusion_player_idx")]
        triggers = [
            pgtrigger.Protect(name="rg_exclusion_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Trigger(
                name="rg_exclusion_guard",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                func=EXCLUSION_GUARD,
                declare=[("replacement", "responsible_exclusion%ROWTYPE")],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.term or ''} from {self.starts_at:%Y-%m-%d}".strip()

    def in_force(self, at: object = None) -> bool:
        at = at or timezone.now()
        return (
            self.superseded_by_id is None
            and self.starts_at <= at  # type: ignore[operator]
            and (self.released_at is None or self.released_at > at)  # type: ignore[operator]
        )


class ExclusionCover(models.Model):
    """What an exclusion covers, written in the transaction that places it (see ``coverage.py``).

    An ``account`` row names one of the person's accounts and how it was linked; a key row (fingerprint, e-mail
    or phone hash, payment instrument) finds the person's accounts registered later, and refuses deposits with
    the person's instruments. Append-only: whatever is edited afterwards, the exclusion keeps covering them.
    """

    exclusion = models.ForeignKey(Exclusion, on_delete=models.PROTECT, related_name="covers")
    kind = models.CharField(max_length=12, choices=CoverKind.choices)
    player = models.ForeignKey(
        "players.Player", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    key = models.CharField(max_length=64, blank=True, help_text="The keyed hash or instrument fingerprint")
    link = models.CharField(max_length=12, choices=CoverLink.choices, blank=True, help_text="Accounts: how found")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind=CoverKind.ACCOUNT, player__isnull=False, key="")
                | (~models.Q(kind=CoverKind.ACCOUNT) & models.Q(player__isnull=True) & ~models.Q(key="")),
                name="rg_cover_account_or_key",
            ),
            models.UniqueConstraint(
                fields=["exclusion", "player"], condition=models.Q(kind=CoverKind.ACCOUNT), name="rg_cover_account_once"
            ),
            models.UniqueConstraint(
                fields=["exclusion", "kind", "key"],
                condition=~models.Q(kind=CoverKind.ACCOUNT),
                name="rg_cover_key_once",
            ),
        ]
        # the eligibility fact and the deposit check look rows up by account or by key (index-only scans)
        indexes = [
            models.Index(
                fields=["player"],
                include=["exclusion"],
                name="rg_cover_player_idx",
                condition=models.Q(player__isnull=False),
            ),
            models.Index(
                fields=["key"], include=["kind", "exclusion"], name="rg_cover_key_idx", condition=~models.Q(key="")
            ),
        ]
        triggers = [pgtrigger.Protect(name="rg_cover_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        what = f"player {self.player_id}" if self.kind == CoverKind.ACCOUNT else f"{self.kind} key"
        return f"exclusion {self.exclusion_id} covers {what}"


IDENTITY_CHANGE_GUARD = """
    IF OLD.approved IS NOT NULL THEN
        RAISE EXCEPTION 'identity change request % is already decided', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.player_id IS DISTINCT FROM OLD.player_id OR NEW.changes IS DISTINCT FROM OLD.changes
       OR NEW.reason IS DISTINCT FROM OLD.reason OR NEW.requested_by_id IS DISTINCT FROM OLD.requested_by_id
       OR NEW.requested_at IS DISTINCT FROM OLD.requested_at
       OR NEW.exclusion_ids IS DISTINCT FROM OLD.exclusion_ids THEN
        RAISE EXCEPTION 'identity change request % cannot change (decide it)', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.approved IS NOT NULL AND (NEW.decided_by_id IS NULL OR NEW.decided_by_id = OLD.requested_by_id) THEN
        RAISE EXCEPTION 'identity change request % needs a second person', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
"""


class IdentityChangeRequest(models.Model):
    """A profile edit that changes the name or birth date of an account covered by an exclusion in force: held,
    not applied, until a second staff member applies or refuses it (``identity_changes.py``)."""

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="identity_change_requests")
    changes = models.JSONField(encoder=DjangoJSONEncoder, help_text="field -> {old, new}: the whole edit")
    reason = models.CharField(max_length=500)
    exclusion_ids = ArrayField(models.BigIntegerField(), default=list, help_text="The exclusions covering it then")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    approved = models.BooleanField(null=True)

    class Meta:
        permissions = [("decide_identity_change", "Apply or refuse a held identity edit (second person)")]
        indexes = [
            models.Index(fields=["player"], name="rg_identity_change_pending_idx", condition=models.Q(approved=None))
        ]
        triggers = [
            pgtrigger.Protect(name="rg_identity_change_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Trigger(
                name="rg_identity_change_guard",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                func=IDENTITY_CHANGE_GUARD,
            ),
        ]

    def __str__(self) -> str:
        return f"identity change #{self.pk} of player {self.player_id}: {', '.join(sorted(self.changes))}"


class ExclusionCorrection(models.Model):
    """A data-entry correction of an exclusion's terms: requested by one staff member, applied by another."""

    exclusion = models.ForeignKey(Exclusion, on_delete=models.PROTECT, related_name="corrections")
    term = models.CharField(max_length=12)
    ends_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    approved = models.BooleanField(null=True)

    class Meta:
        triggers = [pgtrigger.Protect(name="rg_correction_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"correction of exclusion {self.exclusion_id} to {self.term}"


class Limit(models.Model):
    """A player's or the operator's limit; the jurisdiction's caps come from its rule pack."""

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="limits")
    kind = models.CharField(max_length=8, choices=LimitKind.choices)
    period = models.CharField(max_length=8, choices=LimitPeriod.choices)
    source = models.CharField(max_length=12, choices=LimitSource.choices[:2])
    amount = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Session limits")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("set_operator_limit", "Set an operator limit on a player")]
        constraints = [
            models.UniqueConstraint(
                fields=["player", "kind", "period", "source"],
                condition=models.Q(removed_at__isnull=True),
                name="rg_limit_one_active",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="session", minutes__gt=0, amount__isnull=True)
                | (~models.Q(kind="session") & models.Q(amount__gt=0, minutes__isnull=True)),
                name="rg_limit_value_matches_kind",
            ),
        ]
        indexes = [models.Index(fields=["player"], name="rg_limit_player_idx", condition=models.Q(removed_at=None))]
        triggers = [pgtrigger.Protect(name="rg_limit_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        value = f"{self.minutes} min" if self.kind == LimitKind.SESSION else f"{self.amount} {self.currency}"
        return f"{self.get_kind_display()} {self.get_period_display().lower()}: {value} ({self.source})"


class LimitChange(models.Model):
    """Every request to set, lower, raise or remove a limit, and what became of it."""

    limit = models.ForeignKey(Limit, null=True, blank=True, on_delete=models.PROTECT, related_name="changes")
    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="limit_changes")
    kind = models.CharField(max_length=8, choices=LimitKind.choices)
    period = models.CharField(max_length=8, choices=LimitPeriod.choices)
    source = models.CharField(max_length=12, choices=LimitSource.choices[:2])
    old_value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    new_value = models.DecimalField(
        max_digits=20, decimal_places=4, null=True, blank=True, help_text="Empty: remove the limit"
    )
    status = models.CharField(max_length=10, choices=ChangeStatus.choices)
    requested_at = models.DateTimeField(default=timezone.now)
    effective_at = models.DateTimeField(help_text="When it applies (after the cooling-off for an increase)")
    confirm_by = models.DateTimeField(null=True, blank=True, help_text="An increase lapses if not confirmed by then")
    decided_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["player", "-requested_at"], name="rg_limit_change_player_idx"),
            models.Index(
                fields=["confirm_by"], name="rg_limit_change_pending_idx", condition=models.Q(status="pending")
            ),
        ]
        triggers = [pgtrigger.Protect(name="rg_limit_change_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.kind} {self.period}: {self.old_value} -> {self.new_value} ({self.status})"


class Flag(models.Model):
    """A responsible-gambling signal for staff to review (80% of a limit used, a limit reached)."""

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="rg_flags")
    kind = models.CharField(max_length=16, choices=FlagKind.choices)
    detail = models.JSONField(default=dict)
    period_key = models.CharField(max_length=64, help_text="One flag per limit and period")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["player", "kind", "period_key"], name="rg_flag_once")]
        # the start page's "players at 80% of a limit" counts a kind's recent flags (apps/responsible/workqueues.py)
        indexes = [models.Index(fields=["kind", "created_at"], name="rg_flag_kind_created_idx")]
        triggers = [pgtrigger.Protect(name="rg_flag_immutable", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.period_key})"


class Interaction(models.Model):
    """A responsible-gambling interaction staff had with the player (call, e-mail...) and its outcome."""

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="rg_interactions")
    channel = models.CharField(max_length=8, choices=InteractionChannel.choices)
    summary = models.TextField()
    outcome = models.CharField(max_length=200)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["player", "-at"], name="rg_interaction_player_idx")]
        triggers = [pgtrigger.Protect(name="rg_interaction_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.at:%Y-%m-%d}: {self.outcome}"


class RegisterCheck(models.Model):
    """One question asked of a national self-exclusion register (cache hits are not recorded)."""

    player = models.ForeignKey(
        "players.Player", null=True, blank=True, on_delete=models.PROTECT, related_name="register_checks"
    )
    subject = models.CharField(max_length=64, blank=True, help_text="The external_id asked about")
    register = models.CharField(max_length=16)
    point = models.CharField(max_length=12, help_text="registration, login, game_launch, marketing")
    outcome = models.CharField(max_length=8, choices=RegisterOutcome.choices)
    detail = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=100, blank=True, help_text="The register's own reference, if any")
    duration_ms = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["player", "-at"], name="rg_register_check_player_idx"),
            # the start page's register outages: recent errors only (a small slice of a table of every check)
            models.Index(fields=["at"], name="rg_register_check_error_idx", condition=models.Q(outcome="error")),
        ]
        triggers = [
            pgtrigger.Protect(name="rg_register_check_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.register} {self.point}: {self.outcome}"
