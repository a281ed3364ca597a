"""One row per change that may need a second person (maker-checker), whatever app owns the change.

The row names its target by content type and key (``target_ct`` + ``target_id``), and the player it concerns by
a plain id, so this app depends on no feature app; the owning app's registered kind applies the decision
(apps.approvals.registry). The database keeps the rules that must never bend: the checker is never the maker, a
decided row names its checker, a row applied below the threshold names none, and a target has at most one
pending request of a kind.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.approvals.choices import ApprovalState
from apps.core.templatetags.money import format_money

# How a message ends, by the request's state.
STATE_WORDS: dict[str, str] = {
    ApprovalState.PENDING: "waiting for a second approver",
    ApprovalState.BELOW_THRESHOLD: "applied (below the threshold: no second approver needed)",
    ApprovalState.APPROVED: "approved and applied",
    ApprovalState.REJECTED: "rejected",
    ApprovalState.CANCELLED: "cancelled (settled otherwise)",
    ApprovalState.EXPIRED: "expired: nobody decided in time",
}

APPROVAL_GUARD = """
    IF OLD.state <> 'pending' THEN
        RAISE EXCEPTION 'approval % is already %', OLD.id, OLD.state USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.kind IS DISTINCT FROM OLD.kind OR NEW.payload IS DISTINCT FROM OLD.payload
       OR NEW.target_ct_id IS DISTINCT FROM OLD.target_ct_id OR NEW.target_id IS DISTINCT FROM OLD.target_id
       OR NEW.player_id IS DISTINCT FROM OLD.player_id OR NEW.maker_id IS DISTINCT FROM OLD.maker_id
       OR NEW.reason IS DISTINCT FROM OLD.reason OR NEW.amount IS DISTINCT FROM OLD.amount
       OR NEW.currency IS DISTINCT FROM OLD.currency OR NEW.amount_eur IS DISTINCT FROM OLD.amount_eur
       OR NEW.requested_at IS DISTINCT FROM OLD.requested_at THEN
        RAISE EXCEPTION 'approval % cannot change (decide it)', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
"""


class Approval(models.Model):
    kind = models.CharField(max_length=64, help_text="The registered kind, e.g. wallet.adjustment")
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    target_ct = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.CharField(max_length=64)
    player_id = models.BigIntegerField(
        null=True, blank=True, help_text="The player the change concerns, if any (a plain id: no dependency)"
    )
    maker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    amount = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    amount_eur = models.DecimalField(
        max_digits=20,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="The amount converted at the rate of its request (none when the currency has no rate)",
    )
    state = models.CharField(max_length=16, choices=ApprovalState.choices, default=ApprovalState.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.CheckConstraint(
                condition=Q(checker__isnull=True) | ~Q(checker=F("maker")), name="approvals_checker_not_maker"
            ),
            models.CheckConstraint(
                condition=~Q(state__in=[ApprovalState.APPROVED, ApprovalState.REJECTED]) | Q(checker__isnull=False),
                name="approvals_decision_has_checker",
            ),
            models.CheckConstraint(
                condition=~Q(state=ApprovalState.BELOW_THRESHOLD) | Q(checker__isnull=True),
                name="approvals_below_threshold_has_no_checker",
            ),
            models.CheckConstraint(
                condition=Q(state=ApprovalState.PENDING) | Q(decided_at__isnull=False),
                name="approvals_decided_has_time",
            ),
            models.UniqueConstraint(
                fields=["kind", "target_ct", "target_id"],
                condition=Q(state=ApprovalState.PENDING),
                name="approvals_one_pending_per_target",
            ),
        ]
        triggers = [
            # the record of who asked and who decided: never deleted, and a decided row never changes
            pgtrigger.Protect(name="approvals_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Trigger(
                name="approvals_guard", operation=pgtrigger.Update, when=pgtrigger.Before, func=APPROVAL_GUARD
            ),
        ]
        indexes = [
            models.Index(fields=["state", "requested_at"], name="approvals_inbox_idx"),
            models.Index(fields=["target_ct", "target_id"], name="approvals_target_idx"),
            # the rolling totals read only what went through without a second person
            models.Index(
                fields=["kind", "player_id", "requested_at"],
                name="approvals_rolling_idx",
                condition=Q(state=ApprovalState.BELOW_THRESHOLD),
            ),
        ]

    def __str__(self) -> str:
        return self.describe()

    def describe(self, player_name: str = "") -> str:
        """The request in the operator's words, named by its target: "Adjustment #1 of Ada Byron, -GBP 50.00:
        waiting for a second approver" (the player's name when the caller looked it up: this app keeps only
        the player's id)."""
        model = self.target_ct.model_class() if self.target_ct_id else None
        what = str(model._meta.verbose_name).capitalize() if model is not None else self.kind
        of = f" of {player_name}" if player_name else ""
        money = f", {format_money(self.amount, self.currency)}" if self.amount is not None else ""
        return f"{what} #{self.target_id}{of}{money}: {STATE_WORDS.get(self.state, self.state)}"

    @property
    def target_label(self) -> str:
        return f"{self.target_ct.app_label}.{self.target_ct.model}:{self.target_id}"

    def target(self) -> models.Model:
        """The target row (a plain lookup; the owning app's callbacks lock it themselves)."""
        model = self.target_ct.model_class()
        assert model is not None, f"no model for {self.target_ct}"
        return model._default_manager.get(pk=self.target_id)
