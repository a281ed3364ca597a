"""Bonus templates (what a CRM Manager configures), their change history, and player bonuses (what a player got,
with the terms frozen at the award and the wagering progress the posting observer keeps). Docs: docs/BONUSES.md.

Money: every amount is in the template's one currency (a GBP template and a EUR template are two templates), as
``Decimal``; a player's bonus money itself lives in the wallet's ``bonus`` account, moved only by ledger postings
(award, conversion, forfeit). The rows here say why and how much; the ledger says where the money is."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from apps.bonuses.choices import (
    BonusState,
    BonusType,
    EndReason,
    FlagKind,
    MaxBetPolicy,
    Product,
    Source,
    TemplateState,
    Trigger,
    WageringBase,
    WithdrawalPolicy,
)


def default_contributions() -> dict[str, Any]:
    """The usual split: slots count in full, table games 10 %, live casino 5 %, sports and poker not at all."""
    return {"slots": "100", "table": "10", "live": "5", "sports": "0", "poker": "0"}


class BonusTemplate(models.Model):
    code = models.SlugField(max_length=64, unique=True, help_text="Stable id (letters, digits, - and _)")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="The terms in words, as the player reads them")
    type = models.CharField(max_length=16, choices=BonusType.choices)
    trigger = models.CharField(
        max_length=16,
        choices=Trigger.choices,
        default=Trigger.MANUAL,
        help_text="Deposit types only: given on the player's first deposit, or on every qualifying deposit.",
    )
    products = ArrayField(models.CharField(max_length=10, choices=Product.choices), default=list)
    currency = models.CharField(max_length=3, help_text="Every amount of the template is in this currency")
    percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text="Deposit match, reload, cashback: percent"
    )
    amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Cash: the amount; match, reload, cashback: the cap; free bet: stake",
    )
    min_deposit = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    spins_count = models.PositiveIntegerField(null=True, blank=True)
    spin_stake = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    games = ArrayField(models.CharField(max_length=64), default=list, blank=True, help_text="Free spins: the games")
    cashback_days = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Cashback: the period")
    wagering_multiplier = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    wagering_base = models.CharField(max_length=16, choices=WageringBase.choices, default=WageringBase.BONUS)
    contributions = models.JSONField(default=default_contributions, help_text="Per game category, percent 0-100")
    excluded_games = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    max_bet = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True, help_text="While wagering")
    max_bet_policy = models.CharField(max_length=8, choices=MaxBetPolicy.choices, default=MaxBetPolicy.REFUSE)
    days_to_claim = models.PositiveSmallIntegerField(default=7)
    days_to_wager = models.PositiveSmallIntegerField(default=30)
    max_conversion = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Most cash a completion pays"
    )
    per_player_limit = models.PositiveSmallIntegerField(default=1)
    budget = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Most bonus money awarded in total"
    )
    max_recipients = models.PositiveIntegerField(null=True, blank=True)
    jurisdictions = ArrayField(
        models.CharField(max_length=8), default=list, blank=True, help_text="Jurisdiction codes (GB, SE, MT ...)"
    )
    bonus_code = models.CharField(max_length=32, blank=True, help_text="What a player types to claim it")
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    priority = models.SmallIntegerField(default=0, help_text="Higher first, when several are available")
    withdrawal_policy = models.CharField(
        max_length=8, choices=WithdrawalPolicy.choices, default=WithdrawalPolicy.FORFEIT
    )
    state = models.CharField(max_length=10, choices=TemplateState.choices, default=TemplateState.DRAFT)
    awarded_count = models.PositiveIntegerField(default=0)
    awarded_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-priority", "code")
        permissions = [
            ("publish_bonustemplate", "Can publish or retire a bonus template"),
            ("approve_bonustemplate", "Can approve another's publication of a bonus template"),
        ]
        constraints = [
            models.UniqueConstraint(
                models.functions.Upper("bonus_code"),
                condition=~models.Q(bonus_code="") & models.Q(state__in=["draft", "pending", "published"]),
                name="bonuses_template_code_unique",
            ),
            models.CheckConstraint(condition=models.Q(awarded_amount__gte=0), name="bonuses_template_awarded_gte_0"),
        ]
        triggers = [pgtrigger.Protect(name="bonuses_template_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class TemplateChange(models.Model):
    """The template's history: who changed which terms from what to what. Append-only (a database trigger)."""

    template = models.ForeignKey(BonusTemplate, on_delete=models.PROTECT, related_name="changes")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(max_length=16)  # created, updated, published, retired
    changes = models.JSONField(default=dict)  # {field: [before, after]}
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("-at", "-id")
        triggers = [pgtrigger.Protect(name="bonuses_change_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.template_id} {self.action} at {self.at:%Y-%m-%d %H:%M}"


class PlayerBonus(models.Model):
    """One bonus of one player. The terms that matter after the award are copied here (a later edit of the
    template changes nothing a player already accepted)."""

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="bonuses")
    template = models.ForeignKey(BonusTemplate, on_delete=models.PROTECT, related_name="player_bonuses")
    state = models.CharField(max_length=10, choices=BonusState.choices, default=BonusState.OFFERED)
    source = models.CharField(max_length=10, choices=Source.choices)
    source_ref = models.CharField(max_length=100, blank=True, help_text="Campaign run, deposit, claim key")
    campaign_id = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"), help_text="Bonus money awarded")
    deposit_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    wagering_required = models.DecimalField(max_digits=20, decimal_places=4, default=Decimal("0"))
    wagered = models.DecimalField(max_digits=20, decimal_places=4, default=Decimal("0"))
    contributions = models.JSONField(default=dict)
    excluded_games = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    max_bet = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_bet_policy = models.CharField(max_length=8, choices=MaxBetPolicy.choices, default=MaxBetPolicy.REFUSE)
    withdrawal_policy = models.CharField(
        max_length=8, choices=WithdrawalPolicy.choices, default=WithdrawalPolicy.FORFEIT
    )
    max_conversion = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    spins_left = models.PositiveIntegerField(null=True, blank=True)
    offered_at = models.DateTimeField(default=timezone.now)
    claim_by = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    wager_by = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True, help_text="Set by the posting observer")
    voided_at = models.DateTimeField(null=True, blank=True, help_text="A bet above the maximum (void policy)")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    end_note = models.CharField(max_length=500, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    converted_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    forfeited_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-offered_at", "-id")
        permissions = [
            ("award_playerbonus", "Can award a bonus to a player by hand"),
            ("cancel_playerbonus", "Can cancel a player's bonus"),
        ]
        constraints = [
            # one bonus wagering at a time per player and currency: the bonus balance is one account
            models.UniqueConstraint(
                fields=["player", "currency"],
                condition=models.Q(state="active"),
                name="bonuses_one_active_per_player",
            ),
            models.UniqueConstraint(
                fields=["player", "template", "source", "source_ref"],
                condition=~models.Q(source_ref=""),
                name="bonuses_award_idempotent",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="bonuses_amount_gte_0"),
            models.CheckConstraint(condition=models.Q(wagered__gte=0), name="bonuses_wagered_gte_0"),
        ]
        indexes = [
            models.Index(fields=["player", "state"], name="bonuses_player_state"),
            models.Index(
                fields=["met_at"], name="bonuses_met_due", condition=models.Q(state="active", met_at__isnull=False)
            ),
            models.Index(
                fields=["voided_at"],
                name="bonuses_void_due",
                condition=models.Q(state="active", voided_at__isnull=False),
            ),
            # wager_by IS NOT NULL in the predicate: a query for one player's active bonus (every bet's wagering
            # UPDATE, can()'s maximum-bet fact) cannot choose this index, which has no player in it. With
            # "state = 'active'" alone, a campaign's 40,000 new active bonuses before autovacuum's ANALYZE made the
            # planner take it (estimated empty) and scan every active bonus per player: 10 ms a player.
            models.Index(
                fields=["wager_by"],
                name="bonuses_wager_due",
                condition=models.Q(state="active", wager_by__isnull=False),
            ),
            models.Index(fields=["claim_by"], name="bonuses_claim_due", condition=models.Q(state="offered")),
        ]
        triggers = [pgtrigger.Protect(name="bonuses_playerbonus_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.template.name} for {self.player_id} ({self.get_state_display()})"

    @property
    def percent(self) -> Decimal:
        """Wagering progress, 0-100 (100 when nothing is required)."""
        if self.wagering_required <= 0:
            return Decimal("100")
        return min(Decimal("100"), (self.wagered * 100 / self.wagering_required).quantize(Decimal("0.01")))


class BonusFlag(models.Model):
    """A sign of bonus abuse the engine saw (apps/bonuses/flags.py): shown on the player page and in the review
    list, and handed to the hooks (compliance opens or joins a fraud case). Append-only (a database trigger)."""

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="bonus_flags")
    bonus = models.ForeignKey(PlayerBonus, on_delete=models.PROTECT, null=True, blank=True, related_name="flags")
    kind = models.CharField(max_length=20, choices=FlagKind.choices)
    others = ArrayField(models.BigIntegerField(), default=list, blank=True, help_text="The other players involved")
    evidence = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["player", "-created_at"], name="bonuses_flag_player")]
        constraints = [
            models.UniqueConstraint(fields=["bonus", "kind"], name="bonuses_flag_once_per_bonus"),
        ]
        triggers = [pgtrigger.Protect(name="bonuses_flag_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.player_id})"


class FreeSpinResult(models.Model):
    """One free-spin result the platform posted for a bonus (apps/bonuses/free_spins.py): the ledger's win that
    carried it, the spins it used and what they won; a rollback of that win is a row of its own with the spins
    and the amount negative. The ledger says where the money went; this says which bonus's spins it was.
    Append-only (a database trigger). The ledger's ids are plain ids, no foreign key (the ledger is built to be
    partitioned by month)."""

    bonus = models.ForeignKey(PlayerBonus, on_delete=models.PROTECT, related_name="spin_results")
    transaction_id = models.BigIntegerField(unique=True, help_text="The win (or its rollback) in the ledger")
    reverses_transaction_id = models.BigIntegerField(null=True, blank=True, help_text="A rollback: the win it undoes")
    spins = models.IntegerField(help_text="Spins used (negative for a rollback: given back)")
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Won (negative for a rollback)")
    round_id = models.CharField(max_length=100, blank=True)
    game_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("bonus", "id")
        triggers = [
            pgtrigger.Protect(name="bonuses_spinresult_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.spins} spins of bonus {self.bonus_id}: {self.amount}"
