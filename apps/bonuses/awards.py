"""Player bonuses: offered, awarded (active), completed, forfeited, expired, cancelled. The one way in for the API,
the admin, campaigns and the beat job (docs/BONUSES.md).

An award re-checks the world at that moment: the template published and valid, the player's currency and
jurisdiction, ``can(player, "bonus")`` (excluded, timed out, blocked for bonuses, jurisdiction, KYC), the per-player
limit, the budget and the number of recipients (the template row locked, so two awards never overspend it), one
active bonus per currency, and the jurisdiction's rules for this player (apps/bonuses/rules.py). The money moves
through the ledger (``bonus_award``, ``bonus_convert``, ``bonus_forfeit``) in the same transaction as the row."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from apps.audit.services import AuditActor, audit_log
from apps.bonuses import flags
from apps.bonuses.choices import (
    DEPOSIT_TYPES,
    BonusState,
    BonusType,
    EndReason,
    Source,
    TemplateState,
    WageringBase,
)
from apps.bonuses.errors import (
    BonusAlreadyClaimed,
    BonusBudgetExhausted,
    BonusCodeInvalid,
    BonusExpired,
    BonusNotActive,
    BonusNotEligible,
    BonusNotFound,
    BonusNotPermitted,
    BonusRuleViolation,
    BonusTemplateState,
)
from apps.bonuses.models import BonusTemplate, PlayerBonus
from apps.bonuses.rules import award_problems
from apps.bonuses.templates import FIELDS, clean_reason
from apps.core.money import quantize
from apps.core.outbox import outbox_emit
from apps.geo import config as geo_config
from apps.players.eligibility import can
from apps.players.models import Player

ZERO = Decimal("0")
AWARD = "bonuses.award_playerbonus"
CANCEL = "bonuses.cancel_playerbonus"


def _audit(actor: AuditActor | None, action: str, bonus: PlayerBonus, **data: Any) -> None:
    audit_log(
        actor=actor,
        action=f"bonuses.{action}",
        target=bonus,
        data={
            "bonus": bonus.pk,
            "player": bonus.player_id,
            "template": bonus.template.code,
            "state": bonus.state,
            "amount": str(bonus.amount),
            "currency": bonus.currency,
            **data,
        },
    )


def _emit(bonus: PlayerBonus, event: str) -> None:
    player = bonus.player
    outbox_emit(
        f"bonus.{event}",
        key=player.external_id,
        data={
            "player": player.external_id,
            "bonus": bonus.pk,
            "template": bonus.template.code,
            "state": bonus.state,
            "amount": str(bonus.amount),
            "currency": bonus.currency,
        },
    )


def _staff(actor: Any) -> Any:
    return actor if hasattr(actor, "has_perm") and getattr(actor, "pk", None) else None


def first_occasion(player: Player) -> bool:
    """No bonus ever awarded and no bet ever placed (the daily rollups count bets)."""
    from apps.wallet.models import PlayerDay

    if PlayerBonus.objects.filter(player=player, activated_at__isnull=False).exists():
        return False
    bets = PlayerDay.objects.filter(player=player).aggregate(n=Sum("bet_count"))["n"] or 0
    return bets == 0


def net_losses(player: Player, currency: str, days: int, now: datetime) -> Decimal:
    """Stakes minus wins over the last ``days`` days, from the rollups (never below zero)."""
    from apps.wallet.models import PlayerDay

    since = (now - timedelta(days=days)).date()
    totals = PlayerDay.objects.filter(player=player, currency=currency, day__gt=since).aggregate(
        stakes=Sum("stakes"), wins=Sum("wins")
    )
    return max(ZERO, (totals["stakes"] or ZERO) - (totals["wins"] or ZERO))


def _terms(template: BonusTemplate) -> dict[str, Any]:
    return {name: getattr(template, name) for name in FIELDS}


def _refuse(reasons: list[str], message: str, **fields: Any) -> BonusNotEligible:
    return BonusNotEligible(message, fields={"reasons": reasons, **fields})


def check_award(
    player: Player,
    template: BonusTemplate,
    *,
    now: datetime,
    deposit_amount: Decimal | None = None,
    offer: PlayerBonus | None = None,
) -> Decimal:
    """Everything an award needs, checked now; returns the bonus amount. Raises the first refusal."""
    if template.state != TemplateState.PUBLISHED:
        raise BonusTemplateState(f"The template is {template.get_state_display().lower()}, not published.")
    if template.valid_from > now or (template.valid_until is not None and template.valid_until <= now):
        raise BonusExpired("The bonus is not valid now.", fields={"valid_until": str(template.valid_until)})
    if player.currency != template.currency:
        raise _refuse(["currency"], f"The bonus is in {template.currency}; the player's wallet is {player.currency}.")
    eligibility = can(player.pk, "bonus", now=now)
    if not eligibility.allowed:
        raise _refuse(eligibility.reasons, f"Not eligible: {', '.join(eligibility.reasons)}.")
    if eligibility.jurisdiction not in template.jurisdictions:
        raise _refuse(["jurisdiction"], "The bonus is not offered in the player's jurisdiction.")
    if template.budget is not None and template.awarded_amount >= template.budget:
        raise BonusBudgetExhausted("The bonus's budget is used up.")
    if template.max_recipients is not None and template.awarded_count >= template.max_recipients:
        raise BonusBudgetExhausted("The bonus reached its number of recipients.")
    given = PlayerBonus.objects.filter(player=player, template=template).filter(
        Q(activated_at__isnull=False) | Q(state=BonusState.OFFERED)
    )
    if offer is not None:  # the offer being claimed is not a second one
        given = given.exclude(pk=offer.pk)
    if given.count() >= template.per_player_limit:
        raise BonusAlreadyClaimed("The player already has this bonus.")
    snap = geo_config.snapshot()
    rules = snap.rules_for(eligibility.jurisdiction or "", now)
    age = geo_config.age_on(player.date_of_birth, geo_config.local_date(now, rules))
    problems = award_problems(_terms(template), rules=rules, age=age, first_occasion=first_occasion(player))
    if problems:
        first = problems[0]
        raise BonusRuleViolation(
            first.message,
            fields={
                "rule": first.rule,
                "jurisdiction": first.jurisdiction,
                "problems": [p.as_dict() for p in problems],
            },
        )
    amount = bonus_amount(player, template, now=now, deposit_amount=deposit_amount)
    if template.budget is not None and template.awarded_amount + amount > template.budget:
        raise BonusBudgetExhausted("The bonus's budget cannot pay this award.")
    return amount


def bonus_amount(player: Player, template: BonusTemplate, *, now: datetime, deposit_amount: Decimal | None) -> Decimal:
    currency = template.currency
    if template.type in DEPOSIT_TYPES:
        if deposit_amount is None or deposit_amount <= 0:
            raise _refuse(["deposit_required"], "A deposit match is paid on a deposit.")
        if template.min_deposit is not None and deposit_amount < template.min_deposit:
            raise _refuse(["min_deposit"], f"The deposit is below the minimum of {template.min_deposit} {currency}.")
        share = quantize(deposit_amount * (template.percent or ZERO) / 100, currency)
        return min(share, template.amount) if template.amount is not None else share
    if template.type == BonusType.CASHBACK:
        losses = net_losses(player, currency, template.cashback_days or 7, now)
        share = quantize(losses * (template.percent or ZERO) / 100, currency)
        amount = min(share, template.amount) if template.amount is not None else share
        if amount <= 0:
            raise _refuse(["no_net_losses"], "No net losses in the period: no cashback.")
        return amount
    if template.type == BonusType.FREE_SPINS:
        return ZERO  # the spins' wins are the bonus money (posted by the platform with the bonus's id)
    return template.amount or ZERO


def _required(template: BonusTemplate, amount: Decimal, deposit_amount: Decimal | None) -> Decimal:
    base = amount + (deposit_amount or ZERO) if template.wagering_base == WageringBase.BONUS_DEPOSIT else amount
    return (base * template.wagering_multiplier).quantize(Decimal("0.0001"))


def _activate(bonus: PlayerBonus, template: BonusTemplate, amount: Decimal, now: datetime) -> PlayerBonus:
    """The money and the clock: the award posting, the wagering requirement, the template's counters."""
    from apps.wallet.bonus_money import bonus_award as post_award

    if PlayerBonus.objects.filter(player_id=bonus.player_id, currency=bonus.currency, state=BonusState.ACTIVE).exists():
        raise _refuse(["another_bonus_active"], "Another bonus is active: one at a time.")
    bonus.amount = amount
    bonus.wagering_required = _required(template, amount, bonus.deposit_amount)
    bonus.state = BonusState.ACTIVE
    bonus.activated_at = now
    bonus.wager_by = now + timedelta(days=template.days_to_wager)
    bonus.spins_left = template.spins_count if template.type == BonusType.FREE_SPINS else None
    try:
        with transaction.atomic():
            bonus.save()
    except IntegrityError as exc:  # the partial unique index: another award won the race
        raise _refuse(["another_bonus_active"], "Another bonus is active: one at a time.") from exc
    if amount > 0:
        post_award(player=bonus.player_id, amount=amount, currency=bonus.currency, reference=f"bonus-{bonus.pk}")
    BonusTemplate.objects.filter(pk=template.pk).update(
        awarded_count=template.awarded_count + 1, awarded_amount=template.awarded_amount + amount
    )
    return bonus


def _already(player: Player, template: BonusTemplate, source: str, source_ref: str) -> PlayerBonus | None:
    """The bonus an earlier call with the same reference made (the award's idempotency)."""
    if not source_ref:
        return None
    return PlayerBonus.objects.filter(player=player, template=template, source=source, source_ref=source_ref).first()


def _frozen(template: BonusTemplate) -> dict[str, Any]:
    return {
        "contributions": dict(template.contributions),
        "excluded_games": list(template.excluded_games),
        "max_bet": template.max_bet,
        "max_bet_policy": template.max_bet_policy,
        "withdrawal_policy": template.withdrawal_policy,
        "max_conversion": template.max_conversion,
    }


@transaction.atomic
def bonus_award(
    *,
    actor: AuditActor | None,
    player: Player,
    template: BonusTemplate,
    source: str,
    source_ref: str = "",
    deposit_amount: Decimal | None = None,
    campaign_id: int | None = None,
    now: datetime | None = None,
) -> PlayerBonus:
    """Award now (active, money in the bonus account). Idempotent by (player, template, source, source_ref): the
    same reference answers the bonus it made. Staff need bonuses.award_playerbonus for a manual award."""
    staff = _staff(actor)
    if source == Source.MANUAL and not (staff and staff.has_perm(AWARD)):
        raise BonusNotPermitted("Not permitted (bonuses.award_playerbonus).")
    now = now or timezone.now()
    done = _already(player, template, source, source_ref)
    if done is not None:
        return done
    template = BonusTemplate.objects.select_for_update().get(pk=template.pk)
    player = Player.objects.get(pk=player.pk)
    amount = check_award(player, template, now=now, deposit_amount=deposit_amount)
    bonus = PlayerBonus(
        player=player,
        template=template,
        source=source,
        source_ref=source_ref[:100],
        campaign_id=campaign_id,
        currency=template.currency,
        deposit_amount=deposit_amount,
        offered_at=now,
        awarded_by=_staff(actor),
        **_frozen(template),
    )
    bonus = _activate(bonus, template, amount, now)
    flags.on_award(bonus, now)
    _audit(actor, "awarded", bonus, source=source, wagering_required=str(bonus.wagering_required))
    _emit(bonus, "awarded")
    if bonus.wagering_required <= 0 and amount > 0:
        bonus_complete(bonus=bonus, now=now)
        bonus.refresh_from_db()
    return bonus


@transaction.atomic
def bonus_offer(
    *,
    actor: AuditActor | None,
    player: Player,
    template: BonusTemplate,
    source: str,
    source_ref: str = "",
    campaign_id: int | None = None,
    now: datetime | None = None,
) -> PlayerBonus:
    """Offer (the player claims it within the template's days to claim; nothing moves yet). The checks are the
    award's, made again at the claim."""
    now = now or timezone.now()
    done = _already(player, template, source, source_ref)
    if done is not None:
        return done
    template = BonusTemplate.objects.select_for_update().get(pk=template.pk)
    player = Player.objects.get(pk=player.pk)
    if template.type not in DEPOSIT_TYPES:
        check_award(player, template, now=now)
    else:
        check_award(player, template, now=now, deposit_amount=template.min_deposit or template.amount)
    bonus = PlayerBonus.objects.create(
        player=player,
        template=template,
        source=source,
        source_ref=source_ref[:100],
        campaign_id=campaign_id,
        currency=template.currency,
        offered_at=now,
        claim_by=now + timedelta(days=template.days_to_claim),
        **_frozen(template),
    )
    _audit(actor, "offered", bonus, source=source)
    _emit(bonus, "offered")
    return bonus


@transaction.atomic
def bonus_claim(
    *,
    actor: AuditActor | None,
    player: Player,
    code: str = "",
    offer_id: int | None = None,
    deposit_amount: Decimal | None = None,
    key: str = "",
    now: datetime | None = None,
) -> PlayerBonus:
    """The player claims an offer (by its id) or a bonus code. A code names a published template; an offer of it
    waiting for the player is claimed first."""
    now = now or timezone.now()
    if offer_id is not None:
        offer = PlayerBonus.objects.select_for_update().filter(pk=offer_id, player=player).first()
        if offer is None:
            raise BonusNotFound("No such bonus offer for this player.")
        return _claim_offer(actor, offer, deposit_amount=deposit_amount, now=now)
    text = (code or "").strip().upper()
    template = (
        BonusTemplate.objects.filter(bonus_code__iexact=text, state=TemplateState.PUBLISHED).first() if text else None
    )
    if template is None:
        raise BonusCodeInvalid("No bonus has this code.")
    offer = (
        PlayerBonus.objects.select_for_update()
        .filter(player=player, template=template, state=BonusState.OFFERED)
        .first()
    )
    if offer is not None:
        return _claim_offer(actor, offer, deposit_amount=deposit_amount, now=now)
    return bonus_award(
        actor=actor,
        player=player,
        template=template,
        source=Source.CODE,
        source_ref=key or f"code-{text}",
        deposit_amount=deposit_amount,
        now=now,
    )


def _claim_offer(
    actor: AuditActor | None, offer: PlayerBonus, *, deposit_amount: Decimal | None, now: datetime
) -> PlayerBonus:
    if offer.state == BonusState.ACTIVE or offer.activated_at is not None:
        raise BonusAlreadyClaimed("The offer is already claimed.")
    if offer.state != BonusState.OFFERED:
        raise BonusExpired(f"The offer is {offer.get_state_display().lower()}.")
    if offer.claim_by is not None and offer.claim_by <= now:
        raise BonusExpired("The time to claim this offer is over.")
    template = BonusTemplate.objects.select_for_update().get(pk=offer.template_id)
    player = Player.objects.get(pk=offer.player_id)
    amount = check_award(player, template, now=now, deposit_amount=deposit_amount, offer=offer)
    offer.deposit_amount = deposit_amount
    offer = _activate(offer, template, amount, now)
    flags.on_award(offer, now)
    _audit(actor, "claimed", offer, wagering_required=str(offer.wagering_required))
    _emit(offer, "awarded")
    return offer


def _bonus_balance(bonus: PlayerBonus) -> Decimal:
    from apps.wallet.posting import lock_accounts

    return lock_accounts(bonus.player_id, bonus.currency).bonus


def _end(bonus: PlayerBonus, state: str, reason: str, *, now: datetime, note: str = "", by: Any = None) -> None:
    bonus.state = state
    bonus.end_reason = reason
    bonus.end_note = note[:500]
    bonus.ended_at = now
    bonus.ended_by = _staff(by)
    bonus.save(
        update_fields=[
            "state",
            "end_reason",
            "end_note",
            "ended_at",
            "ended_by",
            "converted_amount",
            "forfeited_amount",
        ]
    )


def _forfeit_money(bonus: PlayerBonus) -> Decimal:
    from apps.wallet.bonus_money import bonus_forfeit as post_forfeit

    balance = _bonus_balance(bonus)
    if balance > 0:
        post_forfeit(
            player=bonus.player_id, currency=bonus.currency, amount=balance, reference=f"bonus-{bonus.pk}-forfeit"
        )
    return max(balance, ZERO)


@transaction.atomic
def bonus_complete(*, bonus: PlayerBonus, now: datetime | None = None) -> PlayerBonus:
    """Wagering met: the bonus balance becomes cash up to the maximum conversion; the rest is forfeited."""
    from apps.wallet.bonus_money import bonus_convert as post_convert

    now = now or timezone.now()
    bonus = PlayerBonus.objects.select_for_update().select_related("template", "player").get(pk=bonus.pk)
    if bonus.state != BonusState.ACTIVE:
        raise BonusNotActive("The bonus is not active.")
    if bonus.wagered < bonus.wagering_required:
        raise BonusNotActive("The wagering is not met.")
    balance = _bonus_balance(bonus)
    convert = max(balance, ZERO)
    if bonus.max_conversion is not None:
        convert = min(convert, bonus.max_conversion)
    if convert > 0:
        post_convert(
            player=bonus.player_id, amount=convert, currency=bonus.currency, reference=f"bonus-{bonus.pk}-convert"
        )
    bonus.converted_amount = convert
    bonus.forfeited_amount = _forfeit_money(bonus) if balance > convert else ZERO
    _end(bonus, BonusState.COMPLETED, EndReason.WAGERED, now=now)
    flags.on_complete(bonus)
    _audit(None, "completed", bonus, converted=str(convert), forfeited=str(bonus.forfeited_amount))
    _emit(bonus, "completed")
    return bonus


@transaction.atomic
def bonus_forfeit(
    *, actor: AuditActor | None, bonus: PlayerBonus, reason: str, note: str = "", now: datetime | None = None
) -> PlayerBonus:
    """The bonus ends without conversion (a withdrawal request, a bet above the maximum, the time to wager)."""
    now = now or timezone.now()
    bonus = PlayerBonus.objects.select_for_update().select_related("template", "player").get(pk=bonus.pk)
    if bonus.state != BonusState.ACTIVE:
        raise BonusNotActive("The bonus is not active.")
    bonus.forfeited_amount = _forfeit_money(bonus)
    state = BonusState.EXPIRED if reason == EndReason.WAGER_EXPIRED else BonusState.FORFEITED
    _end(bonus, state, reason, now=now, note=note)
    _audit(
        actor,
        "forfeited" if state == BonusState.FORFEITED else "expired",
        bonus,
        reason=reason,
        forfeited=str(bonus.forfeited_amount),
    )
    _emit(bonus, "forfeited" if state == BonusState.FORFEITED else "expired")
    return bonus


@transaction.atomic
def bonus_cancel(
    *, actor: AuditActor, bonus: PlayerBonus, reason: str, by_player: bool = False, now: datetime | None = None
) -> PlayerBonus:
    """Cancelled by staff (bonuses.cancel_playerbonus, with a reason) or by the player (the API): an active bonus's
    balance is forfeited, an offer simply ends."""
    now = now or timezone.now()
    staff = _staff(actor)
    if not by_player and not (staff and staff.has_perm(CANCEL)):
        raise BonusNotPermitted("Not permitted (bonuses.cancel_playerbonus).")
    text = clean_reason(reason, least=0 if by_player else 5)
    bonus = PlayerBonus.objects.select_for_update().select_related("template", "player").get(pk=bonus.pk)
    if bonus.state not in (BonusState.ACTIVE, BonusState.OFFERED):
        raise BonusNotActive(f"The bonus is {bonus.get_state_display().lower()}: nothing to cancel.")
    if bonus.state == BonusState.ACTIVE:
        bonus.forfeited_amount = _forfeit_money(bonus)
    _end(bonus, BonusState.CANCELLED, EndReason.PLAYER if by_player else EndReason.STAFF, now=now, note=text, by=actor)
    _audit(actor, "cancelled", bonus, by_player=by_player, reason=text[:500], forfeited=str(bonus.forfeited_amount))
    _emit(bonus, "cancelled")
    return bonus


def bonuses_process_due(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """The beat job: convert what is wagered, forfeit what a bet above the maximum voided, expire what ran out of
    time (to wager or to claim). Each bonus in its own transaction; a failure leaves the others."""
    now = now or timezone.now()
    done = {"completed": 0, "voided": 0, "wager_expired": 0, "claim_expired": 0, "not_met": 0}
    active = PlayerBonus.objects.filter(state=BonusState.ACTIVE)
    for bonus in active.filter(voided_at__isnull=False).order_by("voided_at")[:batch]:
        bonus_forfeit(actor=None, bonus=bonus, reason=EndReason.MAX_BET, now=now)
        done["voided"] += 1
    for bonus in active.filter(met_at__isnull=False, voided_at__isnull=True).order_by("met_at")[:batch]:
        try:
            bonus_complete(bonus=bonus, now=now)
            done["completed"] += 1
        except BonusNotActive:  # a rollback took the contribution back: not met after all
            PlayerBonus.objects.filter(pk=bonus.pk, state=BonusState.ACTIVE).update(met_at=None)
            done["not_met"] += 1
    for bonus in active.filter(wager_by__lte=now, met_at__isnull=True).order_by("wager_by")[:batch]:
        bonus_forfeit(actor=None, bonus=bonus, reason=EndReason.WAGER_EXPIRED, now=now)
        done["wager_expired"] += 1
    for bonus in PlayerBonus.objects.filter(state=BonusState.OFFERED, claim_by__lte=now).order_by("claim_by")[:batch]:
        with transaction.atomic():
            locked = PlayerBonus.objects.select_for_update().get(pk=bonus.pk)
            if locked.state == BonusState.OFFERED:
                _end(locked, BonusState.EXPIRED, EndReason.CLAIM_EXPIRED, now=now)
                _audit(None, "offer_expired", locked)
                done["claim_expired"] += 1
    return done
