"""Giving one template to many players at once (a campaign's chunk): the same checks, rows, postings, audit events
and platform events as ``bonus_award`` / ``bonus_offer`` called once per player, in a fixed number of statements
per batch instead of some twenty per player (docs/CRM.md "Speed").

Per batch: the template locked once; the players' accounts locked in one statement (award), then their
eligibility facts read in one query and ``evaluate``d per player in Python (the checks of ``can()``, after the
lock as a posting makes them); what the rules need (age, first occasion, bonuses given) in three queries; the
bonus rows in one ``INSERT ... ON CONFLICT DO NOTHING`` (the partial unique indexes decide a race with an award
made meanwhile: that player is refused ``another_bonus_active``, or answered the bonus the key already made);
the ledger postings in one statement (``wallet.posting.write_many``); the template's counters in one UPDATE; the
abuse flags in four queries (``flags.on_awards``); the audit events and the outbox events in one INSERT each.

Refusals are counted as ``campaign_chunk`` counts them one at a time: the first reason of ``bonus_not_eligible``
(``currency``, ``jurisdiction``, ``another_bonus_active`` or ``can()``'s first reason), else the error's code
(``bonus_template_state``, ``bonus_expired``, ``bonus_budget_exhausted``, ``bonus_already_claimed``,
``bonus_rule_violation``). Types whose amount depends on each player's own figures (cashback: the net losses)
are not taken here (``supports``): the caller gives them one at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.db import connection
from django.utils import timezone

from apps.audit.services import AuditActor, audit_log_many
from apps.bonuses import flags
from apps.bonuses.awards import _frozen, _required, _terms, bonus_amount, bonus_complete
from apps.bonuses.choices import DEPOSIT_TYPES, BonusState, BonusType, TemplateState
from apps.bonuses.models import BonusTemplate, PlayerBonus
from apps.bonuses.rules import award_problems
from apps.core.bulksql import insert_select
from apps.core.outbox import outbox_emit_many
from apps.geo import config as geo_config
from apps.players import eligibility
from apps.players.choices import Action

ZERO = Decimal("0")
MODES = ("award", "offer")


def supports(template: BonusTemplate, mode: str) -> bool:
    """Whether ``give_many`` can give this template: every type but cashback (its amount is each player's net
    losses), and deposit types only as offers (an award of a deposit match needs the deposit)."""
    if template.type == BonusType.CASHBACK:
        return False
    return mode == "offer" or template.type not in DEPOSIT_TYPES


@dataclass
class Given:
    bonuses: dict[int, PlayerBonus] = field(default_factory=dict)  # player id -> the bonus (new or the key's)
    refused: dict[int, str] = field(default_factory=dict)  # player id -> the reason, as campaign_chunk counts it
    cost: Decimal = ZERO  # the bonus money of the awards this call made


def _insert_bonuses(bonuses: list[PlayerBonus]) -> dict[int, int]:
    """INSERT ... ON CONFLICT DO NOTHING of many bonus rows: player id -> the new row's id (a player missing from
    the answer hit a unique index: an active bonus in the currency, or the same key given meanwhile). The rows
    ``_bonus`` makes for one batch differ only by the player: the first one's values are prepared once."""
    fields = [f for f in PlayerBonus._meta.concrete_fields if not f.primary_key]
    columns = [(str(f.column), str(f.db_type(connection))) for f in fields]
    first = [f.get_db_prep_save(f.pre_save(bonuses[0], True), connection) for f in fields]
    at = next(i for i, f in enumerate(fields) if f.attname == "player_id")
    rows = [[*first[:at], bonus.player_id, *first[at + 1 :]] for bonus in bonuses]
    sql, params = insert_select("bonuses_playerbonus", columns, rows)
    with connection.cursor() as cursor:
        cursor.execute(sql + " ON CONFLICT DO NOTHING RETURNING id, player_id", params)
        return {player_id: pk for pk, player_id in cursor.fetchall()}


def _player_history(ids: list[int], template: BonusTemplate) -> tuple[set[int], set[int], dict[int, int]]:
    """Who ever had a bonus activated, who ever placed a bet (the rollups), and how many of this template each
    has been given (activated or offered): the first occasion and the per-player limit, for all at once."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT player_id FROM bonuses_playerbonus WHERE player_id = ANY(%s) AND activated_at IS NOT NULL",
            [ids],
        )
        bonused = {r[0] for r in cursor.fetchall()}
        cursor.execute(
            "SELECT player_id FROM wallet_player_day WHERE player_id = ANY(%s) GROUP BY player_id "
            "HAVING sum(bet_count) > 0",
            [ids],
        )
        played = {r[0] for r in cursor.fetchall()}
        cursor.execute(
            "SELECT player_id, count(*) FROM bonuses_playerbonus WHERE player_id = ANY(%s) AND template_id = %s "
            "AND (activated_at IS NOT NULL OR state = %s) GROUP BY player_id",
            [ids, template.pk, BonusState.OFFERED],
        )
        given = dict(cursor.fetchall())
    return bonused, played, given


def give_many(
    *,
    actor: AuditActor | None,
    template: BonusTemplate,
    player_ids: list[int],
    mode: str,
    source: str,
    source_ref: str,
    campaign_id: int | None = None,
    now: datetime | None = None,
) -> Given:
    """Award (``mode="award"``) or offer ``template`` to each of ``player_ids`` as ``bonus_award`` /
    ``bonus_offer`` would, one at a time in id order, with the key (``source``, ``source_ref``). In the caller's
    transaction (a campaign's chunk): a failure rolls the whole batch back."""
    from apps.wallet.bonus_money import bonus_award_many
    from apps.wallet.posting import lock_many

    if mode not in MODES or not supports(template, mode):
        raise ValueError(f"give_many cannot {mode} a {template.type} template")
    now = now or timezone.now()
    out = Given()
    ids = sorted(set(player_ids))
    if not ids:
        return out
    template = BonusTemplate.objects.select_for_update().get(pk=template.pk)
    source_ref = source_ref[:100]
    # the key's idempotency: what an earlier call with the same key made is the answer, for those players
    for bonus in PlayerBonus.objects.filter(
        template=template, source=source, source_ref=source_ref, player_id__in=ids
    ).select_related("template"):
        out.bonuses[bonus.player_id] = bonus
    ids = [pid for pid in ids if pid not in out.bonuses]
    if template.state != TemplateState.PUBLISHED:
        out.refused.update(dict.fromkeys(ids, "bonus_template_state"))
        return out
    if template.valid_from > now or (template.valid_until is not None and template.valid_until <= now):
        out.refused.update(dict.fromkeys(ids, "bonus_expired"))
        return out
    award = mode == "award"
    accounts = lock_many(ids, template.currency) if award else {}  # the checks below come after the lock
    facts = eligibility.facts_many(ids)
    bonused, played, given = _player_history(ids, template)
    active = (
        set(
            PlayerBonus.objects.filter(
                player_id__in=ids, currency=template.currency, state=BonusState.ACTIVE
            ).values_list("player_id", flat=True)
        )
        if award
        else set()
    )
    snap = geo_config.snapshot()
    terms = _terms(template)
    if award:
        amount: Decimal | None = ZERO if template.type == BonusType.FREE_SPINS else (template.amount or ZERO)
    else:  # an offer is checked as bonus_offer checks it: a deposit type on its minimum deposit
        amount = _offer_amount(template)
    if amount is None:  # a deposit type without a minimum deposit or an amount to check an offer on
        out.refused.update(dict.fromkeys(ids, "deposit_required"))
        return out
    count, total = template.awarded_count, template.awarded_amount
    chosen: list[int] = []
    for pid in ids:
        mine = facts.get(pid)
        if mine is None:
            out.refused[pid] = "player_not_found"
            continue
        reason = _refusal(
            template,
            mine,
            award=award,
            now=now,
            snap=snap,
            terms=terms,
            amount=amount,
            count=count,
            total=total,
            given=given.get(pid, 0),
            first_occasion=pid not in bonused and pid not in played,
        )
        if reason is None and award and pid not in accounts:
            reason = "currency"
        if reason is None and award and pid in active:  # as _activate finds it: after the checks, not counted
            reason = "another_bonus_active"
        if reason is not None:
            out.refused[pid] = reason
            continue
        chosen.append(pid)
        if award:
            count, total = count + 1, total + amount
    if not chosen:
        return out
    new = [_bonus(template, pid, mode, source, source_ref, campaign_id, amount, now) for pid in chosen]
    made = _insert_bonuses(new)
    raced = [b.player_id for b in new if b.player_id not in made]
    if raced:  # a unique index said no: the key given meanwhile (its bonus is the answer), or an active bonus
        for bonus in PlayerBonus.objects.filter(
            template=template, source=source, source_ref=source_ref, player_id__in=raced
        ).select_related("template"):
            out.bonuses[bonus.player_id] = bonus
    for bonus in new:
        if bonus.player_id not in made:
            if bonus.player_id not in out.bonuses:
                out.refused[bonus.player_id] = "another_bonus_active"
            continue
        bonus.pk = made[bonus.player_id]
        bonus._state.adding, bonus._state.db = False, connection.alias
        out.bonuses[bonus.player_id] = bonus
    done = [b for b in new if b.pk is not None]
    if not done:
        return out
    if award:
        paid = {b.player_id: (b.amount, f"bonus-{b.pk}") for b in done if b.amount > 0}
        if paid:
            bonus_award_many(awards=paid, accounts=accounts)
        out.cost = sum((b.amount for b in done), ZERO)
        BonusTemplate.objects.filter(pk=template.pk).update(
            awarded_count=template.awarded_count + len(done), awarded_amount=template.awarded_amount + out.cost
        )
        flags.on_awards(done, now)
    action = "awarded" if award else "offered"
    audit_log_many(
        actor=actor,
        action=f"bonuses.{action}",
        items=[(b, _audit_data(b, template, source, award)) for b in done],
    )
    outbox_emit_many(f"bonus.{action}", [(facts[b.player_id]["external_id"], _event(b, facts, template)) for b in done])
    for bonus in done:  # a template without wagering pays out at once, as bonus_award does
        if award and bonus.wagering_required <= 0 and bonus.amount > 0:
            bonus_complete(bonus=bonus, now=now)
    return out


def _offer_amount(template: BonusTemplate) -> Decimal | None:
    """What ``bonus_offer`` checks an offer on: a deposit type's match of its minimum deposit (None without one),
    else the template's own amount (free spins: nothing)."""
    deposit = template.min_deposit or template.amount if template.type in DEPOSIT_TYPES else None
    if template.type in DEPOSIT_TYPES and (deposit is None or deposit <= 0):
        return None
    # no player needed: supports() keeps cashback (the one type whose amount is the player's own) away
    return bonus_amount(cast(Any, None), template, now=timezone.now(), deposit_amount=deposit)


def _refusal(
    template: BonusTemplate,
    facts: dict[str, Any],
    *,
    award: bool,
    now: datetime,
    snap: Any,
    terms: dict[str, Any],
    amount: Decimal,
    count: int,
    total: Decimal,
    given: int,
    first_occasion: bool,
) -> str | None:
    """``check_award``'s refusals in its order, for one player, from facts read for the batch."""
    if facts["currency"] != template.currency:
        return "currency"
    # an award is checked with its amount too, as the wallet's bonus_award checks it after the lock
    result = eligibility.evaluate(facts, Action.BONUS, amount=amount if award and amount > 0 else None, now=now)
    if not result.allowed:
        return result.reasons[0]
    if result.jurisdiction not in template.jurisdictions:
        return "jurisdiction"
    if template.budget is not None and total >= template.budget:
        return "bonus_budget_exhausted"
    if template.max_recipients is not None and count >= template.max_recipients:
        return "bonus_budget_exhausted"
    if given >= template.per_player_limit:
        return "bonus_already_claimed"
    rules = snap.rules_for(result.jurisdiction or "", now)
    age = geo_config.age_on(facts["date_of_birth"], geo_config.local_date(now, rules))
    if award_problems(terms, rules=rules, age=age, first_occasion=first_occasion):
        return "bonus_rule_violation"
    if template.budget is not None and total + amount > template.budget:
        return "bonus_budget_exhausted"
    return None


def _bonus(
    template: BonusTemplate,
    player_id: int,
    mode: str,
    source: str,
    source_ref: str,
    campaign_id: int | None,
    amount: Decimal,
    now: datetime,
) -> PlayerBonus:
    bonus = PlayerBonus(
        player_id=player_id,
        template=template,
        source=source,
        source_ref=source_ref,
        campaign_id=campaign_id,
        currency=template.currency,
        offered_at=now,
        **_frozen(template),
    )
    if mode == "offer":
        bonus.claim_by = now + timedelta(days=template.days_to_claim)
        return bonus
    bonus.amount = amount
    bonus.wagering_required = _required(template, amount, None)
    bonus.state = BonusState.ACTIVE
    bonus.activated_at = now
    bonus.wager_by = now + timedelta(days=template.days_to_wager)
    bonus.spins_left = template.spins_count if template.type == BonusType.FREE_SPINS else None
    return bonus


def _audit_data(bonus: PlayerBonus, template: BonusTemplate, source: str, award: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "bonus": bonus.pk,
        "player": bonus.player_id,
        "template": template.code,
        "state": bonus.state,
        "amount": str(bonus.amount),
        "currency": bonus.currency,
        "source": source,
    }
    if award:
        data["wagering_required"] = str(bonus.wagering_required)
    return data


def _event(bonus: PlayerBonus, facts: dict[int, dict[str, Any]], template: BonusTemplate) -> dict[str, Any]:
    external_id = facts[bonus.player_id]["external_id"]
    return {
        "player": external_id,
        "bonus": bonus.pk,
        "template": template.code,
        "state": bonus.state,
        "amount": str(bonus.amount),
        "currency": bonus.currency,
    }
