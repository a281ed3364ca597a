"""Eligibility: may this player do this, here, now? The one function every action calls.

Hot path. ``can_for_external_id`` answers with ONE indexed query: the player's facts and the geo configuration
version come back in the same row (later apps add their facts as extra columns of that row, see
``register_fact``). Jurisdiction rules come from an in-process snapshot that is reloaded when the version read
with the player moves, so an edit to a rule pack or IP override takes effect on the next check on every worker
and nothing is ever decided on stale data: there is no cache of answers at all.

Extension: an app adds a check with ``register_check(fn)`` (from its AppConfig.ready) and, if the check needs
data about the player, a column with ``register_fact(name, sql)`` (a correlated subquery on ``p``, the player
row). Checks append reason codes and restrictions to the result; they never raise.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from apps.geo import config as geo_config
from apps.geo.decision import PLAY, WITHDRAWAL, GeoDecision, decide
from apps.players.choices import BLOCKED_BY, Action, PlayerStatus

ACTIONS = frozenset(Action.values)
PLAY_ACTIONS = frozenset({Action.LOGIN, Action.GAME_LAUNCH, Action.BET, Action.DEPOSIT, Action.BONUS})
# action -> (the player's column, the reason it refuses with), from the capability each action needs
CAPABILITY_BLOCKS = {action: (f"blocked_{cap}", f"blocked_for_{cap}") for action, cap in BLOCKED_BY.items()}

_BASE_FACTS = (
    ("id", "p.id"),
    ("external_id", "p.external_id"),
    ("brand_id", "p.brand_id"),  # API views answer 404 outside the client's brands
    ("status", "p.status"),
    ("blocked_deposit", "p.blocked_deposit"),
    ("blocked_bet", "p.blocked_bet"),
    ("blocked_withdrawal", "p.blocked_withdrawal"),
    ("blocked_bonus", "p.blocked_bonus"),
    ("blocked_marketing", "p.blocked_marketing"),
    ("date_of_birth", "p.date_of_birth"),
    ("country", "p.country"),
    ("region", "p.region"),
    ("currency", "p.currency"),
    ("marketing_consent", "(p.marketing_email OR p.marketing_sms OR p.marketing_phone OR p.marketing_post)"),
    ("geo_version", "(SELECT version FROM geo_geoconfigversion WHERE id = 1)"),
)
_extra_facts: list[tuple[str, str]] = []


@dataclass
class Eligibility:
    action: str
    reasons: list[str] = field(default_factory=list)
    restrictions: dict[str, Any] = field(default_factory=dict)
    jurisdiction: str | None = None

    @property
    def allowed(self) -> bool:
        return not self.reasons

    def deny(self, code: str) -> None:
        if code not in self.reasons:
            self.reasons.append(code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "action": self.action,
            "reasons": list(self.reasons),
            "restrictions": self.restrictions,
            "jurisdiction": self.jurisdiction,
        }


@dataclass
class CheckContext:
    facts: dict[str, Any]
    action: str
    ip: str | None
    amount: Decimal | None
    game_category: str | None
    now: datetime
    snap: geo_config.GeoSnapshot
    geo: GeoDecision
    age: int
    result: Eligibility
    ask_registers: bool = True  # False: checks that ask an outside service (national registers) stay silent


Check = Callable[[CheckContext], None]
_checks: list[Check] = []


def register_check(check: Check) -> Check:
    if check not in _checks:
        _checks.append(check)
    return check


InstrumentCheck = Callable[[str], "str | None"]
_instrument_checks: list[InstrumentCheck] = []


def register_instrument_check(check: InstrumentCheck) -> InstrumentCheck:
    """``check(instrument_fingerprint)`` returns a reason to refuse a payment with this instrument whoever pays
    with it, or None (apps.responsible refuses an excluded person's card). Called only when one is named."""
    if check not in _instrument_checks:
        _instrument_checks.append(check)
    return check


def instrument_refusal(instrument_fingerprint: str) -> str | None:
    for check in _instrument_checks:
        reason = check(instrument_fingerprint)
        if reason:
            return reason
    return None


def register_fact(name: str, sql: str) -> None:
    """Add a column to the eligibility query: ``sql`` is an expression over the player row aliased ``p``."""
    if all(existing != name for existing, _ in (*_BASE_FACTS, *_extra_facts)):
        _extra_facts.append((name, sql))
        _compiled.clear()


_compiled: dict[str, tuple[str, tuple[str, ...]]] = {}


def _query(key: str) -> tuple[str, tuple[str, ...]]:
    """The SQL and its column names, built once per key (and again after ``register_fact``)."""
    compiled = _compiled.get(key)
    if compiled is None:
        facts = (*_BASE_FACTS, *_extra_facts)
        columns = ", ".join(f"{sql} AS {name}" for name, sql in facts)
        where = "p.id = ANY(%s::bigint[])" if key == "many" else f"p.{key} = %s"
        sql = f"SELECT {columns} FROM players_player p WHERE {where}"  # noqa: S608  (no user input)
        compiled = _compiled[key] = (sql, tuple(name for name, _ in facts))
    return compiled


def facts_for(*, external_id: str | None = None, player_id: int | None = None) -> dict[str, Any] | None:
    key, value = ("external_id", external_id) if external_id is not None else ("id", player_id)
    sql, names = _query(key)
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    return None if row is None else dict(zip(names, row, strict=True))


def facts_sql_many() -> tuple[str, tuple[str, ...]]:
    """The eligibility query for many players (``p.id = ANY(%s)``): the same fact expressions as ``facts_for``."""
    return _query("many")


def facts_many(player_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """The facts of many players in one query (player id -> facts), for ``evaluate`` on each: what ``can()``
    reads, read once for a batch (a campaign's chunk, the marketing export)."""
    sql, names = facts_sql_many()
    with connection.cursor() as cursor:
        cursor.execute(sql, [sorted(set(player_ids))])
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {facts["id"]: facts for facts in rows}


def can_for_external_id(
    external_id: str,
    action: str,
    *,
    ip: str | None = None,
    amount: Decimal | None = None,
    game_category: str | None = None,
    now: datetime | None = None,
    brand_ids: Collection[int] | None = None,
) -> Eligibility | None:
    """``can()`` for the API: one query. None if there is no such player (or, with ``brand_ids``, none of
    those brands)."""
    facts = facts_for(external_id=external_id)
    if facts is None or (brand_ids is not None and facts["brand_id"] not in brand_ids):
        return None
    return evaluate(facts, action, ip=ip, amount=amount, game_category=game_category, now=now)


def can(
    player: Any,
    action: str,
    *,
    ip: str | None = None,
    amount: Decimal | None = None,
    game_category: str | None = None,
    now: datetime | None = None,
    ask_registers: bool = True,
) -> Eligibility:
    """May ``player`` (a Player or its id) do ``action`` now? Reads the player's current row: never stale.

    ``ask_registers=False`` (the staff player page) answers from Pitboss's own data: a national register is
    asked when the player acts, never because a staff member opened a page."""
    facts = facts_for(player_id=player if isinstance(player, int) else player.pk)
    if facts is None:
        raise LookupError("no such player")
    return evaluate(
        facts, action, ip=ip, amount=amount, game_category=game_category, now=now, ask_registers=ask_registers
    )


def evaluate(
    facts: dict[str, Any],
    action: str,
    *,
    ip: str | None = None,
    amount: Decimal | None = None,
    game_category: str | None = None,
    now: datetime | None = None,
    ask_registers: bool = True,
) -> Eligibility:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    now = now or timezone.now()
    snap = geo_config.snapshot(facts["geo_version"])
    purpose = WITHDRAWAL if action == Action.WITHDRAW else PLAY
    use_ip = ip if action != Action.MARKETING else None
    geo = decide(snap, country=facts["country"], region=facts["region"], ip=use_ip, at=now, purpose=purpose)
    dob: date = facts["date_of_birth"]
    ctx = CheckContext(
        facts=facts,
        action=action,
        ip=ip,
        amount=amount,
        game_category=game_category,
        now=now,
        snap=snap,
        geo=geo,
        age=geo_config.age_on(dob, geo_config.local_date(now, geo.rules)),
        result=Eligibility(action=action, jurisdiction=geo.jurisdiction),
        ask_registers=ask_registers,
    )
    for check in _checks:
        check(ctx)
    return ctx.result


# --- the checks of this issue; later apps register theirs -------------------------------------------------


@register_check
def check_account_status(ctx: CheckContext) -> None:
    status = ctx.facts["status"]
    if status != PlayerStatus.ACTIVE:
        ctx.result.deny(f"account_{status}")


@register_check
def check_capability_blocks(ctx: CheckContext) -> None:
    block = CAPABILITY_BLOCKS.get(ctx.action)  # type: ignore[call-overload]
    if block and ctx.facts[block[0]]:
        ctx.result.deny(block[1])


@register_check
def check_age(ctx: CheckContext) -> None:
    rules = ctx.geo.rules
    min_age = rules.min_age if rules is not None else 18
    if ctx.age < min_age and ctx.action != Action.WITHDRAW:
        ctx.result.deny("underage")


@register_check
def check_geo(ctx: CheckContext) -> None:
    for code in ctx.geo.reasons:
        ctx.result.deny(code)
    rules = ctx.geo.rules
    if (
        rules is not None
        and ctx.action in (Action.DEPOSIT, Action.BET)
        and rules.allowed_currencies
        and ctx.facts["currency"] not in rules.allowed_currencies
    ):
        ctx.result.deny("currency_not_allowed")


@register_check
def check_marketing_consent(ctx: CheckContext) -> None:
    if ctx.action == Action.MARKETING and not ctx.facts["marketing_consent"]:
        ctx.result.deny("no_marketing_consent")


@register_check
def check_stakes_and_restrictions(ctx: CheckContext) -> None:
    rules = ctx.geo.rules
    if rules is None or ctx.action not in (Action.LOGIN, Action.GAME_LAUNCH, Action.BET):
        return
    caps = rules.max_stakes_for_age(ctx.age)
    restrictions = ctx.result.restrictions
    if caps:
        restrictions["max_stake"] = {
            category: {"amount": str(cap.max_stake), "currency": cap.currency} for category, cap in sorted(caps.items())
        }
    if rules.min_spin_seconds is not None:
        restrictions["min_spin_seconds"] = str(rules.min_spin_seconds)
    if ctx.action == Action.BET and rules.bonus_wagering_order != "cash_first":
        restrictions["wagering_order"] = rules.bonus_wagering_order  # the wallet takes the stake from bonus first
    if rules.reality_check_minutes:
        restrictions["reality_check_minutes"] = rules.reality_check_minutes
    if rules.session_break_after_minutes and rules.session_break_minutes:
        restrictions["session_break_minutes"] = rules.session_break_minutes
        restrictions["session_break_after_minutes"] = rules.session_break_after_minutes
    if ctx.action == Action.BET and ctx.amount is not None and caps:
        # Fail closed: a stake that cannot be held against the caps is refused, never waved through.
        if not ctx.game_category:
            ctx.result.deny("game_category_required")
            return
        cap = caps.get(ctx.game_category)
        if cap is None:
            return
        if cap.currency != ctx.facts["currency"]:  # no exchange-rate source in Pitboss: refuse, never skip
            ctx.result.deny("stake_cap_currency_unsupported")
        elif ctx.amount > cap.max_stake:
            ctx.result.deny("stake_limit_exceeded")
