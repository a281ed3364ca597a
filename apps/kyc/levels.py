"""Levels and requirements: what a player must prove, raised by triggers, met by decisions.

A requirement is raised by a service when a trigger fires (registration, deposits crossing a threshold, a
staff or compliance decision, a screening match later) and is met the moment the player's level reaches it. The
eligibility check (apps/kyc/checks.py) reads the level and the open requirements in ``can()``'s one query.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.approvals.thresholds import rate_for
from apps.audit.services import SYSTEM, AuditActor, audit_log
from apps.core.money import quantize
from apps.core.outbox import outbox_emit
from apps.geo import config as geo_config
from apps.geo.config import Rules
from apps.kyc.choices import Level, RequirementState, Trigger, platform_trigger
from apps.kyc.errors import LevelInvalid
from apps.kyc.models import KycProfile, Requirement
from apps.players.choices import Action
from apps.players.models import Player
from apps.players.validation import require_reason
from apps.staff.models import StaffUser

PLAY = (Action.BET, Action.GAME_LAUNCH)
# CDD: until it is met winnings and withdrawals stay locked; once overdue, deposits and play stop too
CDD_RESTRICTS = (Action.WITHDRAW,)
CDD_RESTRICTS_WHEN_OVERDUE = (Action.DEPOSIT, *PLAY)
STAFF_DUE_DAYS = 14  # a requirement staff or compliance raise without a date of their own

# Called with each requirement a trigger raises (new, or its level raised), in its transaction: how the apps above
# KYC learn of one without KYC knowing them (compliance opens an enhanced due diligence case on a level 3).
RequirementHook = Callable[[Requirement], None]
_requirement_hooks: list[RequirementHook] = []


def register_requirement_hook(hook: RequirementHook) -> RequirementHook:
    if hook not in _requirement_hooks:
        _requirement_hooks.append(hook)
    return hook


def _raised(requirement: Requirement) -> None:
    for hook in _requirement_hooks:
        hook(requirement)


def rules_for(player: Player, at: datetime | None = None) -> Rules | None:
    snap = geo_config.snapshot()
    code = snap.jurisdiction_code(player.country, player.region)
    return snap.rules_for(code, at or timezone.now()) if code else None


def profile_for(player: Player, *, lock: bool = False) -> KycProfile:
    """The player's profile (created at level 0 if it is missing: players registered before KYC existed)."""
    KycProfile.objects.get_or_create(player=player)
    queryset = KycProfile.objects.select_for_update() if lock else KycProfile.objects
    return queryset.get(player=player)


def level_of(player: Player) -> int:
    return KycProfile.objects.filter(player=player).values_list("level", flat=True).first() or 0


def threshold_in(amount_eur_or_pack: Decimal, pack_currency: str, currency: str) -> Decimal:
    """A threshold set in ``pack_currency`` placed in the player's ``currency`` by the operator's rates
    (CURRENCY_RATES_PER_EUR). A currency without a rate places it at zero: fail closed, the first deposit counts."""
    if pack_currency.upper() == currency.upper():
        return amount_eur_or_pack
    pack_rate, rate = rate_for(pack_currency), rate_for(currency)
    if pack_rate is None or rate is None:
        return Decimal("0")
    return quantize(amount_eur_or_pack / pack_rate * rate, currency)


# --- requirements -----------------------------------------------------------------------------------------


def requirement_raise(
    *,
    actor: AuditActor | None,
    player: Player,
    level: int,
    trigger: str,
    due_at: datetime,
    restricts: tuple[str, ...] | list[str] = (),
    restricts_when_overdue: tuple[str, ...] | list[str] = (),
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> Requirement | None:
    """Raise (or return, for a trigger already open) a requirement; None when the player's level already meets
    it. A trigger firing again with a higher level raises the open requirement's level."""
    if level not in (Level.IDENTITY, Level.FULL, Level.ENHANCED):
        raise LevelInvalid(f"A requirement is for level 1, 2 or 3, not {level!r}.", fields={"level": ["1, 2 or 3"]})
    with transaction.atomic():
        profile = profile_for(player, lock=True)
        if profile.level >= level:
            return None
        open_one = Requirement.objects.filter(player=player, trigger=trigger, state=RequirementState.OPEN).first()
        if open_one is not None:
            if open_one.level >= level:
                return open_one
            Requirement.objects.filter(pk=open_one.pk).update(level=level)
            open_one.refresh_from_db()
            audit_log(actor=actor, action="kyc.requirement_raised", target=player, data=_described(open_one))
            _raised(open_one)
            return open_one
        requirement = Requirement.objects.create(
            player=player,
            level=level,
            trigger=trigger,
            due_at=due_at,
            restricts=sorted(set(restricts)),
            restricts_when_overdue=sorted(set(restricts_when_overdue) - set(restricts)),
            reason=reason,
            detail=detail or {},
            created_by=actor if isinstance(actor, StaffUser) else None,
        )
        audit_log(actor=actor, action="kyc.requirement_raised", target=player, data=_described(requirement))
        _raised(requirement)
        outbox_emit(
            "kyc.requirement_raised",
            key=player.external_id,
            data={
                "player": player.external_id,
                "level_needed": requirement.level,
                "trigger": platform_trigger(trigger),  # never "compliance" or a screening match
                "due_at": requirement.due_at,
                "restricts": requirement.restricts,
                "restricts_when_overdue": requirement.restricts_when_overdue,
            },
        )
        return requirement


def requirement_ask(
    *, actor: AuditActor, player: Player, level: int, reason: str, due_at: datetime | None = None, compliance: bool
) -> Requirement | None:
    """Staff or compliance ask the player to verify to ``level`` (a reason is required). Withdrawals wait for it
    at once; deposits and play stop once it is overdue."""
    text = require_reason(reason)
    return requirement_raise(
        actor=actor,
        player=player,
        level=level,
        trigger=Trigger.COMPLIANCE if compliance else Trigger.STAFF,
        due_at=due_at or timezone.now() + timedelta(days=STAFF_DUE_DAYS),
        restricts=(Action.WITHDRAW,),
        restricts_when_overdue=CDD_RESTRICTS_WHEN_OVERDUE,
        reason=text,
    )


def _described(requirement: Requirement) -> dict[str, Any]:
    return {
        "requirement": requirement.pk,
        "level_needed": requirement.level,
        "trigger": requirement.trigger,
        "due_at": requirement.due_at.isoformat(),
        "restricts": list(requirement.restricts),
        "restricts_when_overdue": list(requirement.restricts_when_overdue),
    }


# --- the level ---------------------------------------------------------------------------------------------


def level_set(
    *, actor: AuditActor | None, player: Player, level: int, why: str, data: dict[str, Any] | None = None
) -> int:
    """Set the player's level (from a document decision, a vendor or an expiry), meet every open requirement
    the new level satisfies, audit ``kyc.level_changed`` and emit it. Returns the previous level."""
    if level not in Level.values:
        raise LevelInvalid(f"Levels are 0 to 3, not {level!r}.", fields={"level": ["0 to 3"]})
    with transaction.atomic():
        profile = profile_for(player, lock=True)
        before = profile.level
        now = timezone.now()
        if before == level:
            return before
        KycProfile.objects.filter(pk=profile.pk).update(level=level, level_changed_at=now)
        met = list(
            Requirement.objects.filter(player=player, state=RequirementState.OPEN, level__lte=level).values_list(
                "pk", flat=True
            )
        )
        if met:
            Requirement.objects.filter(pk__in=met).update(state=RequirementState.MET, closed_at=now)
        audit_log(
            actor=actor,
            action="kyc.level_changed",
            target=player,
            data={"from": before, "to": level, "why": why, "requirements_met": met, **(data or {})},
        )
        outbox_emit(
            "kyc.level_changed",
            key=player.external_id,
            data={"player": player.external_id, "level": level, "previous_level": before},
        )
        return before


# --- triggers --------------------------------------------------------------------------------------------


def on_registered(*, actor: AuditActor | None, player: Player, rules: Rules | None) -> None:
    """Registration: a jurisdiction that verifies before deposit or play raises that requirement, due now (it
    restricts exactly those acts until met); a high-risk residence requires enhanced due diligence."""
    KycProfile.objects.get_or_create(player=player)
    if rules is None:
        return
    now = timezone.now()
    before: set[str] = set()
    needed = 0
    if rules.kyc_level_to_deposit:
        before.add(Action.DEPOSIT)
        needed = max(needed, rules.kyc_level_to_deposit)
    if rules.kyc_level_to_play:
        before.update(PLAY)
        needed = max(needed, rules.kyc_level_to_play)
    if needed:
        requirement_raise(
            actor=actor,
            player=player,
            level=needed,
            trigger=Trigger.REGISTRATION,
            due_at=now,
            restricts=tuple(before),
            reason=f"{rules.jurisdiction} verifies identity before " + " and ".join(sorted(before)),
        )
    if rules.high_risk:
        requirement_raise(
            actor=actor,
            player=player,
            level=Level.ENHANCED,
            trigger=Trigger.HIGH_RISK_COUNTRY,
            due_at=now + timedelta(days=rules.cdd_grace_days),
            restricts=(Action.WITHDRAW,),
            restricts_when_overdue=CDD_RESTRICTS_WHEN_OVERDUE,
            reason=f"residence in {rules.jurisdiction}, a high-risk country",
        )


def deposits_in_window(player: Player, rules: Rules, now: datetime) -> Decimal:
    """The player's deposits over the jurisdiction's CDD window (all since registration when it names none),
    from the per-player day rollups (in the posting's transaction, they include the deposit just posted)."""
    from apps.wallet.rollups import day_of, period_sums

    zone = rules.time_zone or "UTC"
    if rules.cdd_window_days:
        start = day_of(now, zone) - timedelta(days=rules.cdd_window_days - 1)
    else:
        start = day_of(player.created_at, zone)
    return period_sums(player.pk, player.currency, {"window": start})["window"]["deposits"]


def on_deposit(event: Any) -> None:
    """A posting observer on deposits (in the posting's transaction): deposits reaching the CDD threshold raise
    a level-2 requirement (withdrawals locked at once, deposits and play once overdue), the EDD threshold a
    level-3 one. Costs one indexed read of the profile; the window sum only below level 3 and not yet raised."""
    row = KycProfile.objects.filter(player_id=event.player_id).values_list("level", flat=True).first()
    level = row or 0
    if level >= Level.ENHANCED:
        return
    open_triggers = set(
        Requirement.objects.filter(
            player_id=event.player_id,
            state=RequirementState.OPEN,
            trigger__in=(Trigger.CDD_THRESHOLD, Trigger.EDD_THRESHOLD),
        ).values_list("trigger", flat=True)
    )
    if Trigger.EDD_THRESHOLD in open_triggers:
        return
    player = Player.objects.get(pk=event.player_id)
    now = event.created_at
    rules = rules_for(player, now)
    if rules is None:
        return
    total = quantize(deposits_in_window(player, rules, now), player.currency)
    cdd = threshold_in(rules.cdd_threshold, rules.cdd_currency, player.currency)
    edd_amount, edd_currency = (
        (rules.edd_threshold, rules.cdd_currency)
        if rules.edd_threshold is not None
        else (Decimal(settings.KYC_EDD_THRESHOLD_EUR), "EUR")
    )
    edd = threshold_in(edd_amount, edd_currency, player.currency)
    window = f"{rules.cdd_window_days} days" if rules.cdd_window_days else "since registration"
    detail = {"deposits": str(total), "currency": player.currency, "window": window}
    if total >= edd and level < Level.ENHANCED:
        needed, trigger, threshold = Level.ENHANCED, Trigger.EDD_THRESHOLD, edd
    elif total >= cdd and level < Level.FULL and Trigger.CDD_THRESHOLD not in open_triggers:
        needed, trigger, threshold = Level.FULL, Trigger.CDD_THRESHOLD, cdd
    else:
        return
    requirement_raise(
        actor=SYSTEM,
        player=player,
        level=needed,
        trigger=trigger,
        due_at=now + timedelta(days=rules.cdd_grace_days),
        restricts=CDD_RESTRICTS,
        restricts_when_overdue=CDD_RESTRICTS_WHEN_OVERDUE,
        reason=f"deposits of {total} {player.currency} ({window}) reached {threshold} {player.currency}",
        detail={**detail, "threshold": str(threshold)},
    )


def overdue_sweep(*, now: datetime | None = None, batch: int = 500) -> int:
    """Beat: note each open requirement that has just become overdue (its ``restricts_when_overdue`` already
    apply through ``can()`` from ``due_at``; this records and announces it, once). Idempotent."""
    now = now or timezone.now()
    noted = 0
    due = list(
        Requirement.objects.filter(state=RequirementState.OPEN, due_at__lte=now, overdue_at__isnull=True)
        .select_related("player")
        .order_by("due_at")[:batch]
    )
    for requirement in due:
        with transaction.atomic():
            updated = Requirement.objects.filter(pk=requirement.pk, overdue_at__isnull=True, state="open").update(
                overdue_at=now
            )
            if not updated:
                continue
            player = requirement.player
            audit_log(actor=SYSTEM, action="kyc.requirement_overdue", target=player, data=_described(requirement))
            outbox_emit(
                "kyc.requirement_overdue",
                key=player.external_id,
                data={
                    "player": player.external_id,
                    "level_needed": requirement.level,
                    "restricts": sorted({*requirement.restricts, *requirement.restricts_when_overdue}),
                },
            )
            noted += 1
    return noted


def on_withdrawal_refused(*, player: Player, reasons: list[str]) -> None:
    """The first withdrawal a missing level refused raises the withdrawal requirement (level 2, the market's
    level for withdrawals), so the player has a requirement and a due date and the refusal is not a dead end."""
    if not {"kyc_required", "kyc_level_insufficient"} & set(reasons):
        return
    rules = rules_for(player)
    needed = rules.kyc_level_to_withdraw if rules is not None else Level.FULL
    if needed < Level.IDENTITY:
        return
    requirement_raise(
        actor=SYSTEM,
        player=player,
        level=needed,
        trigger=Trigger.WITHDRAWAL,
        due_at=timezone.now() + timedelta(days=rules.cdd_grace_days if rules is not None else STAFF_DUE_DAYS),
        restricts=(Action.WITHDRAW,),
        reason="a withdrawal was requested without the verification it needs",
    )
