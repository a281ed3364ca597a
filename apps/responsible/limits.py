"""Effective limits and their usage, read from the wallet's per-player day rollups (``apps/wallet/rollups.py``).

Periods are calendar periods of the jurisdiction's clock (``Jurisdiction.time_zone``): the day from local
midnight, the week from Monday's, the month from the 1st's; a player with no jurisdiction counts in UTC.
The effective limit of a kind and period is the lowest of the player's own, the operator's and the
jurisdiction's cap. Usage, per period:

* ``deposit``: deposits; a jurisdiction cap marked ``net`` counts deposits minus withdrawals requested (and
  not cancelled) in the period, as NL's net cap does;
* ``wager``: stakes, less rolled-back stakes;
* ``loss``: stakes, less rolled-back stakes, less wins not rolled back (net loss; a bet of X can lose at most X).

Read in the posting's transaction after the player's accounts are locked, so two concurrent deposits cannot
both slip under a limit: the second sees the first (the rollup row is written by the first's own statement).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from apps.core.read_scope import scoped
from apps.geo.config import Rules
from apps.responsible.choices import LimitKind, LimitSource
from apps.wallet import rollups

ZERO = Decimal("0")
MONEY_KINDS = (LimitKind.DEPOSIT, LimitKind.LOSS, LimitKind.WAGER)


@dataclass(frozen=True)
class EffectiveLimit:
    kind: str
    period: str
    source: str
    amount: Decimal | None  # money limits
    currency: str
    minutes: int | None = None  # session limits
    net: bool = False  # a net deposit cap

    @property
    def usage_key(self) -> str:
        return "net_deposit" if self.kind == LimitKind.DEPOSIT and self.net else str(self.kind)


def period_start(period: str, now: datetime, zone: str = "UTC") -> datetime:
    """When the current ``period`` began, at local midnight in ``zone`` (an aware datetime)."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    if period == "week":
        today -= timedelta(days=today.weekday())
    elif period != "day":
        today = today.replace(day=1)
    return datetime.combine(today, time(0), tzinfo=tz)


def json_fact(facts: dict[str, Any], name: str) -> list[Any]:
    """A jsonb fact of the eligibility row (Django's driver setup hands jsonb over as text)."""
    value = facts.get(name)
    if isinstance(value, str):
        value = facts[name] = json.loads(value)
    return value or []


def limits_from_facts(facts: dict[str, Any], rules: Rules | None, age: int) -> list[EffectiveLimit]:
    """The player's and operator's limits (from the eligibility facts) and the jurisdiction's caps."""
    found = [
        EffectiveLimit(
            kind=kind,
            period=period,
            source=source,
            amount=Decimal(amount) if amount is not None else None,
            currency=facts["currency"],
            minutes=minutes,
        )
        for kind, period, source, amount, minutes in json_fact(facts, "rg_limits")
    ]
    for cap in rules.deposit_caps if rules is not None else ():
        if "amount" not in cap or cap.get("period") not in ("day", "week", "month"):
            continue
        if (cap.get("min_age") is not None and age < cap["min_age"]) or (
            cap.get("max_age") is not None and age > cap["max_age"]
        ):
            continue
        found.append(
            EffectiveLimit(
                kind=LimitKind.DEPOSIT,
                period=cap["period"],
                source=LimitSource.JURISDICTION,
                amount=Decimal(str(cap["amount"])),
                currency=str(cap.get("currency", "")),
                net=bool(cap.get("net")),
            )
        )
    return found


def period_end(period: str, start: date) -> date:
    """The first day after the period that began on ``start``."""
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def usage(
    player_id: int, currency: str, periods: set[str], now: datetime, zone: str = "UTC", *, bounded: bool = False
) -> dict[tuple[str, str], Decimal]:
    """(usage key, period) -> amount used in the period ``now`` is in, from the player's day rollups (one query
    over at most 31 rows a period, however many postings the period holds). ``bounded``: only up to the period's
    end (for a period that may be over: a consumer catching up on yesterday's postings)."""
    if not periods:
        return {}
    starts = {period: period_start(period, now, zone).date() for period in sorted(periods)}
    ends = {period: period_end(period, start) for period, start in starts.items()} if bounded else None
    # inside a page's read scope (apps.core.read_scope: the player page, where can() for each action and the
    # limits section ask for the same periods) the sums are read once; everywhere else, every call reads them
    key = ("limit_usage", player_id, currency, tuple(starts.items()), tuple(ends.items()) if ends else None)
    sums = scoped(key, lambda: rollups.period_sums(player_id, currency, starts, ends))
    result: dict[tuple[str, str], Decimal] = {}
    for period, got in sums.items():
        result[("deposit", period)] = got["deposits"]
        result[("net_deposit", period)] = got["deposits"] - got["withdrawals"]
        result[("wager", period)] = got["stakes"]
        result[("loss", period)] = got["stakes"] - got["wins"]
    return result


@dataclass(frozen=True)
class LimitUse:
    limit: EffectiveLimit
    used: Decimal

    @property
    def remaining(self) -> Decimal:
        assert self.limit.amount is not None
        return max(ZERO, self.limit.amount - self.used)

    @property
    def percent(self) -> int:
        assert self.limit.amount is not None
        return int(self.used * 100 / self.limit.amount) if self.limit.amount else 100

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.limit.kind,
            "period": self.limit.period,
            "source": self.limit.source,
            "net": self.limit.net,
            "limit": str(self.limit.amount),
            "currency": self.limit.currency,
            "used": str(self.used),
            "remaining": str(self.remaining),
            "percent_used": self.percent,
        }


def foreign_currency_limits(limits: list[EffectiveLimit], currency: str) -> list[EffectiveLimit]:
    """Money limits in another currency than the player's wallet (a jurisdiction cap in EUR for a GBP player).

    Pitboss has no exchange-rate source, so these cannot be measured: the caller refuses the action
    (``limit_currency_unsupported``) rather than skip the limit."""
    return [lim for lim in limits if lim.amount is not None and lim.currency != currency]


def money_usage(
    player_id: int,
    limits: list[EffectiveLimit],
    currency: str,
    now: datetime,
    zone: str = "UTC",
    *,
    bounded: bool = False,
) -> list[LimitUse]:
    """Usage of the limits in ``currency``; see ``foreign_currency_limits`` for the others."""
    money = [lim for lim in limits if lim.amount is not None and lim.currency == currency]
    used = usage(player_id, currency, {lim.period for lim in money}, now, zone, bounded=bounded)
    return [LimitUse(limit=lim, used=used[(lim.usage_key, lim.period)]) for lim in money]
