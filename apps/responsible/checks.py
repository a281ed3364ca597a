"""What player protection adds to ``can()``: exclusions, limits and national registers.

Two facts join the eligibility query (indexed lookups, usually finding nothing): the exclusions in force for the
person (this account, any with the same identity fingerprint, and whatever an exclusion recorded when it was placed,
see ``coverage.py``) and the account's limits.
Usage is read from the ledger only when a money limit applies to the action. A national register is asked only
at the check points of the jurisdiction's rule pack, through a short cache.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apps.geo import config as geo_config
from apps.players.choices import Action
from apps.players.eligibility import CheckContext
from apps.responsible import registers
from apps.responsible.choices import ExclusionKind, FlagKind, LimitKind, LimitSource
from apps.responsible.coverage import PERSON_MATCH, REASONS
from apps.responsible.limits import (
    ZERO,
    foreign_currency_limits,
    json_fact,
    limits_from_facts,
    money_usage,
    period_start,
)
from apps.wallet.events import PostingEvent

if TYPE_CHECKING:
    from apps.responsible.models import Flag

# The person's exclusions: this account's, the same fingerprint's, and those that recorded this account or one of
# its keys (``coverage.PERSON_MATCH``: index lookups joined by a BitmapOr). Released rows stay in the answer for a
# week so that a check "in the past" (tests travel in time) still sees them; Python decides what is in force at
# the check's ``now``.
EXCLUSIONS_FACT = f"""(
    SELECT coalesce(jsonb_agg(jsonb_build_array(e.kind, e.capabilities, e.starts_at, e.released_at, e.ends_at)),
                    '[]'::jsonb)
    FROM responsible_exclusion e
    WHERE {PERSON_MATCH}
      AND e.superseded_by_id IS NULL AND (e.released_at IS NULL OR e.released_at > now() - interval '7 days')
)"""  # noqa: S608  (no user input)
LIMITS_FACT = """(
    SELECT coalesce(jsonb_agg(jsonb_build_array(l.kind, l.period, l.source, l.amount::text, l.minutes)), '[]'::jsonb)
    FROM responsible_limit l WHERE l.player_id = p.id AND l.removed_at IS NULL
)"""
REGISTER_POINTS = {Action.LOGIN: "login", Action.GAME_LAUNCH: "game_launch", Action.MARKETING: "marketing"}


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def in_force_exclusions(facts: dict[str, Any], now: datetime) -> list[tuple[str, list[str], datetime | None]]:
    """(kind, capabilities, until) of every exclusion in force at ``now``."""
    found = []
    for kind, capabilities, starts, released, ends in json_fact(facts, "rg_exclusions"):
        start, release = _when(starts), _when(released)
        if start is not None and start > now:
            continue
        if release is not None and release <= now:
            continue
        found.append((kind, capabilities or [], release or _when(ends)))
    return found


def check_exclusions(ctx: CheckContext) -> None:
    for kind, capabilities, until in in_force_exclusions(ctx.facts, ctx.now):
        if kind == ExclusionKind.OPERATOR and capabilities:
            if ctx.action in capabilities:
                ctx.result.deny("operator_blocked")
            continue
        if ctx.action == Action.WITHDRAW:
            continue  # an excluded player can always take their money out
        ctx.result.deny(REASONS[kind])
        if until is not None:
            current = ctx.result.restrictions.get("excluded_until")
            ctx.result.restrictions["excluded_until"] = max(current or until.isoformat(), until.isoformat())


def check_limits(ctx: CheckContext) -> None:
    if ctx.action not in (Action.DEPOSIT, Action.BET, Action.GAME_LAUNCH, Action.LOGIN, Action.MARKETING):
        return
    rules = ctx.geo.rules
    limits = limits_from_facts(ctx.facts, rules, ctx.age)
    sessions = [lim.minutes for lim in limits if lim.kind == LimitKind.SESSION and lim.minutes]
    if sessions and ctx.action in (Action.LOGIN, Action.GAME_LAUNCH):
        ctx.result.restrictions["session_limit_minutes"] = min(sessions)
    mandatory = rules is not None and any(cap.get("mandatory_own_limit") for cap in rules.deposit_caps)
    own_deposit_limit = any(lim.kind == LimitKind.DEPOSIT and lim.source == LimitSource.PLAYER for lim in limits)
    if mandatory and ctx.action in (Action.DEPOSIT, Action.BET, Action.GAME_LAUNCH) and not own_deposit_limit:
        ctx.result.deny("limit_required")
    kinds = {
        Action.DEPOSIT: (LimitKind.DEPOSIT,),
        Action.BET: (LimitKind.WAGER, LimitKind.LOSS),
        Action.MARKETING: (LimitKind.DEPOSIT, LimitKind.WAGER, LimitKind.LOSS),
    }.get(ctx.action)  # type: ignore[call-overload]
    relevant = [lim for lim in limits if kinds and lim.kind in kinds and lim.amount is not None]
    if not relevant:
        return
    foreign = foreign_currency_limits(relevant, ctx.facts["currency"])
    if foreign:  # fail closed: a cap that cannot be measured in the wallet's currency is not skipped
        ctx.result.deny("limit_currency_unsupported")
        ctx.result.restrictions["limits_unmeasurable"] = [
            {
                "kind": lim.kind,
                "period": lim.period,
                "source": lim.source,
                "limit": str(lim.amount),
                "currency": lim.currency,
            }
            for lim in foreign
        ]
    zone = rules.time_zone if rules is not None else "UTC"
    uses = money_usage(ctx.facts["id"], relevant, ctx.facts["currency"], ctx.now, zone)
    amount = ctx.amount if ctx.action != Action.MARKETING else None
    reached = [u for u in uses if (u.used + amount > u.limit.amount if amount else u.used >= u.limit.amount)]  # type: ignore[operator]
    if reached:
        ctx.result.deny("limit_reached")
        ctx.result.restrictions["limits_reached"] = [u.as_dict() for u in reached]


def subject_of(player: Any) -> registers.Subject:
    return registers.Subject(
        external_id=player.external_id,
        first_name=player.first_name,
        last_name=player.last_name,
        date_of_birth=player.date_of_birth,
        email=player.email,
        phone=player.phone,
        postal_code=player.postal_code,
        country=player.country,
    )


def register_denial(
    code: str, subject: registers.Subject, *, point: str, fail_open: bool, player_id: int | None
) -> str | None:
    """The reason to refuse after asking register ``code``, or None."""
    try:
        answer = registers.ask(code, subject, point=point, player_id=player_id)
    except registers.RegisterUnavailable:
        return None if fail_open else "register_unavailable"
    return "self_excluded_national" if answer.excluded else None


def check_national_register(ctx: CheckContext) -> None:
    rules = ctx.geo.rules
    point = REGISTER_POINTS.get(ctx.action)  # type: ignore[call-overload]
    if rules is None or not rules.self_exclusion_register or point not in rules.register_check_points:
        return
    if not ctx.result.allowed or not ctx.ask_registers:
        return  # already refused (no need to ask anyone), or a staff page that must not ask on its own
    from apps.players.models import Player

    player = Player.objects.only(
        "external_id", "first_name", "last_name", "date_of_birth", "email", "phone", "postal_code", "country"
    ).get(pk=ctx.facts["id"])
    reason = register_denial(
        rules.self_exclusion_register,
        subject_of(player),
        point=point,
        fail_open=rules.register_fail_open,
        player_id=player.pk,
    )
    if reason:
        ctx.result.deny(reason)


LIMIT_FLAGS_CONSUMER = "responsible.limit_flags"
FLAGGED_LIMITS = {"deposit": (LimitKind.DEPOSIT,), "bet": (LimitKind.WAGER, LimitKind.LOSS)}


def raise_limit_flags(events: list[PostingEvent]) -> None:
    """Durable consumer of deposits and bets (``responsible.limit_flags``): a flag when a period's usage reached
    80% of a limit, another when it reached 100%, once per limit and period.

    Runs after commit, off the posting path: usage is read from the rollups for the period each event fell in
    (up to that period's end), so a consumer catching up after midnight still flags yesterday's limit."""
    from apps.players.eligibility import facts_for
    from apps.responsible.models import Flag

    facts = facts_for(player_id=events[0].player_id)
    if facts is None:
        return
    snap = geo_config.snapshot(facts["geo_version"])
    code = snap.jurisdiction_code(facts["country"], facts["region"])
    measured: set[str] = set()  # the (limit, period start)s already measured in this batch
    for event in reversed(events):  # the newest event of a period speaks for the older ones: usage is the period's
        rules = snap.rules_for(code, event.created_at) if code else None
        zone = rules.time_zone if rules is not None else "UTC"
        age = geo_config.age_on(facts["date_of_birth"], geo_config.local_date(event.created_at, rules))
        kinds = FLAGGED_LIMITS.get(event.type, ())
        keys = {
            lim: f"{lim.kind}:{lim.period}:{lim.source}:{'net' if lim.net else ''}:"
            f"{period_start(lim.period, event.created_at, zone):%Y-%m-%d}"
            for lim in limits_from_facts(facts, rules, age)
            if lim.kind in kinds
        }
        todo = [lim for lim, key in keys.items() if key not in measured]
        measured.update(keys.values())
        for use in money_usage(event.player_id, todo, facts["currency"], event.created_at, zone, bounded=True):
            limit_amount = use.limit.amount or ZERO
            if not limit_amount or use.used * 100 < limit_amount * 80:
                continue
            key = keys[use.limit]
            detail = {**use.as_dict(), "used_after": str(use.used)}
            kinds_raised = [FlagKind.LIMIT_80] + ([FlagKind.LIMIT_REACHED] if use.used >= limit_amount else [])
            known = set(
                Flag.objects.filter(player_id=event.player_id, period_key=key[:64]).values_list("kind", flat=True)
            )
            new = [
                Flag(player_id=event.player_id, kind=k, detail=detail, period_key=key[:64])
                for k in kinds_raised
                if k not in known
            ]
            Flag.objects.bulk_create(new, ignore_conflicts=True)
            for flag in new:
                for hook in _flag_hooks:
                    hook(flag)


# Called with each flag newly raised, in the consumer's transaction: how the apps above learn of one (compliance
# opens a responsible-gambling case when a limit is fully used) without this app knowing them.
FlagHook = Callable[["Flag"], None]
_flag_hooks: list[FlagHook] = []


def register_flag_hook(hook: FlagHook) -> FlagHook:
    if hook not in _flag_hooks:
        _flag_hooks.append(hook)
    return hook


def check_register_at_registration(candidate: Any, rules: Any) -> dict[str, list[str]]:
    """Before a registration is stored: the national register, where the jurisdiction asks at registration."""
    if rules is None or not rules.self_exclusion_register or "registration" not in rules.register_check_points:
        return {}
    reason = register_denial(
        rules.self_exclusion_register,
        subject_of(candidate),
        point="registration",
        fail_open=rules.register_fail_open,
        player_id=None,
    )
    if reason == "self_excluded_national":
        return {"non_field_errors": [f"{reason}: registered with {rules.self_exclusion_register}"]}
    if reason:
        return {"non_field_errors": [f"{reason}: {rules.self_exclusion_register} could not be asked"]}
    return {}
