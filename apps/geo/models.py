"""Jurisdictions and their rule packs, as data with effective dates (DESIGN.md §4), and IP overrides.

Every change to this configuration bumps ``GeoConfigVersion`` in the same transaction: eligibility reads the
version in the same query as the player and reloads its in-process copy of the rules when it moved, so an edit
takes effect on the next check on every worker, and no check ever runs on stale rules.
"""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from apps.geo.choices import OverrideAction, SelfExclusionRegister, WageringOrder


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError("Not an IANA time zone (e.g. Europe/Berlin).") from exc


class Jurisdiction(models.Model):
    """A market: a country (``GB``) or a region of one (``CA-ON``, ``US-NJ``). Residence in a region without its
    own jurisdiction falls back to the country's."""

    code = models.CharField(max_length=6, unique=True, help_text="ISO 3166-1 alpha-2, or ISO 3166-2 for a region")
    name = models.CharField(max_length=100)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA time zone of the market's calendar: a limit's day, week and month start at its midnight",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ("code",)

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    @property
    def country(self) -> str:
        return self.code.split("-", 1)[0]


class RulePack(models.Model):
    """The rules of one jurisdiction from ``effective_from`` until the next pack takes over."""

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="rule_packs")
    effective_from = models.DateTimeField(default=timezone.now)
    # market status
    licensed = models.BooleanField(default=False, help_text="The operator holds a licence for this market.")
    registration_blocked = models.BooleanField(default=False)
    visiting_blocked = models.BooleanField(default=False, help_text="No login or play from this market's IPs.")
    high_risk = models.BooleanField(default=False, help_text="AML: a high-risk country.")
    require_presence = models.BooleanField(
        default=False, help_text="Play only from inside the market (IP country must match residence)."
    )
    # players
    min_age = models.PositiveSmallIntegerField(default=18, validators=[MinValueValidator(18)])
    allowed_currencies = ArrayField(models.CharField(max_length=3), default=list, blank=True)
    # identity verification (apps.kyc): the level each act needs (0 none, 1 identity and age, 2 full with the
    # address, 3 enhanced due diligence), and customer due diligence from a deposit total
    kyc_level_to_deposit = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(3)])
    kyc_level_to_play = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(3)])
    kyc_level_to_withdraw = models.PositiveSmallIntegerField(default=2, validators=[MaxValueValidator(3)])
    cdd_threshold = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("2000.00"))
    cdd_currency = models.CharField(max_length=3, default="EUR")
    cdd_window_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Deposits counted over this many days; empty: since registration."
    )
    cdd_grace_days = models.PositiveIntegerField(
        default=30, help_text="Days the player has to complete due diligence once the threshold is reached."
    )
    edd_threshold = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Deposits from this amount (currency above) need enhanced due diligence; empty: the default.",
    )
    # protection
    self_exclusion_register = models.CharField(max_length=16, choices=SelfExclusionRegister.choices, blank=True)
    self_exclusion_terms = ArrayField(
        models.CharField(max_length=12), default=list, blank=True, help_text="e.g. 6m, 1y, 5y, permanent"
    )
    timeout_min_hours = models.PositiveIntegerField(null=True, blank=True)
    timeout_max_hours = models.PositiveIntegerField(null=True, blank=True)
    limit_increase_cooling_off_hours = models.PositiveIntegerField(default=24)
    limit_confirmation_hours = models.PositiveIntegerField(
        default=168, help_text="After the cooling-off, the player must confirm an increase within this window."
    )
    self_exclusion_return_hours = models.PositiveIntegerField(
        default=24, help_text="Cooling-off between a return request (after the term) and the account reopening."
    )
    register_check_points = ArrayField(
        models.CharField(max_length=12),
        default=list,
        blank=True,
        help_text="When the national register is asked: registration, login, game_launch, marketing.",
    )
    register_fail_open = models.BooleanField(
        default=False, help_text="If the register cannot be asked: allow (fail open) instead of refusing."
    )
    deposit_caps = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"period": "month", "amount": "1000.00", "currency": "EUR", "net": false, "max_age": null}]',
    )
    stake_caps = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"game_category": "slots", "max_stake": "5.00", "currency": "GBP", "min_age": 25}]',
    )
    min_spin_seconds = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    reality_check_minutes = models.PositiveIntegerField(null=True, blank=True)
    session_break_after_minutes = models.PositiveIntegerField(null=True, blank=True)
    session_break_minutes = models.PositiveIntegerField(null=True, blank=True)
    bonus_wagering_cap = models.PositiveSmallIntegerField(null=True, blank=True)
    bonus_single_product = models.BooleanField(
        default=False, help_text="An incentive covers exactly one product (casino, betting, bingo or lottery)."
    )
    bonus_first_occasion_only = models.BooleanField(
        default=False,
        help_text="A bonus only on the first occasion the player plays with the operator (no bet and no bonus before).",
    )
    bonus_min_days_to_wager = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="At least this many days to meet the wagering requirement."
    )
    bonus_wagering_order = models.CharField(
        max_length=12, choices=WageringOrder.choices, default=WageringOrder.CASH_FIRST
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ("jurisdiction__code", "-effective_from")
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "effective_from"], name="geo_rulepack_unique_start"),
            models.CheckConstraint(
                condition=models.Q(timeout_min_hours__isnull=True)
                | models.Q(timeout_max_hours__isnull=True)
                | models.Q(timeout_min_hours__lte=models.F("timeout_max_hours")),
                name="geo_rulepack_timeout_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction.code} from {self.effective_from:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        from apps.geo.validation import validate_rule_pack

        validate_rule_pack(self)


class IpOverride(models.Model):
    """A staff-managed network that overrides the IP-to-country lookup (test offices, known VPN exits)."""

    network = models.CharField(max_length=49, unique=True, help_text="CIDR, e.g. 203.0.113.0/24")
    action = models.CharField(max_length=8, choices=OverrideAction.choices)
    country = models.CharField(max_length=2, blank=True, help_text="For 'treat as a country'")
    reason = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "IP override"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action="block", country="") | models.Q(action="country") & ~models.Q(country=""),
                name="geo_ipoverride_country_iff_country_action",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.network} ({self.get_action_display()})"

    def clean(self) -> None:
        from apps.geo.validation import validate_ip_override

        validate_ip_override(self)


class GeoConfigVersion(models.Model):
    """One row: bumped in the same transaction as any change to jurisdictions, rule packs or IP overrides."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=1)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="geo_config_version_single_row")]

    def __str__(self) -> str:
        return f"geo configuration v{self.version}"
