"""The jurisdictions' bonus rules, read from the geo rule packs (data with effective dates), applied to a template
(when it is saved, published and targeted) and to an award (when a player gets it).

A template names the jurisdictions it is for; it must satisfy every pack of each of them in force at any moment
of its validity window (a pack that starts inside the window counts too: a GB template valid across 19 Jan 2026
must meet the 10x cap). The rules (``rule`` in the error's fields):

- ``wagering_cap``: the wagering multiplier at most the pack's ``bonus_wagering_cap`` (GB: 10x from 19 Jan 2026);
- ``single_product``: exactly one product where the pack says so (GB from 19 Jan 2026);
- ``max_bet_stake_cap``: a casino bonus in a market with slot stake caps names a maximum bet, in the caps'
  currency, not above the highest cap (GBP 5); at the award, not above the player's own cap (GBP 2 at 18-24);
- ``first_occasion``: where a bonus is only for the first occasion (Sweden), no reload or cashback template, and
  at the award no bonus and no bet before;
- ``min_days_to_wager``: at least the pack's days to meet the wagering (Sweden: 60);
- ``currency``: the template's currency allowed in the market.

A check that cannot decide refuses: a market without a rule pack, a stake cap in another currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.bonuses.choices import REPEAT_TYPES, Product
from apps.geo import config as geo_config
from apps.geo.config import GeoSnapshot, Rules

CASINO_CAP_CATEGORY = "slots"


@dataclass(frozen=True)
class Problem:
    rule: str
    field: str
    message: str
    jurisdiction: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "field": self.field, "message": self.message, "jurisdiction": self.jurisdiction}


def packs_in_window(snap: GeoSnapshot, code: str, start: datetime, end: datetime | None) -> list[Rules]:
    """The packs of ``code`` in force at some moment of [start, end): the one in force at ``start`` and every one
    starting inside the window (newest first, as the snapshot keeps them)."""
    packs = snap.packs.get(code, [])
    found: list[Rules] = []
    for rules in packs:
        starts_inside = start < rules.effective_from and (end is None or rules.effective_from < end)
        if starts_inside:
            found.append(rules)
        elif rules.effective_from <= start:
            found.append(rules)  # the one in force at the start; older ones never apply
            break
    return found


def _d(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def pack_problems(terms: dict[str, Any], rules: Rules) -> list[Problem]:
    """What of ``terms`` (a template's fields) breaks one pack's bonus rules."""
    code = rules.jurisdiction
    out: list[Problem] = []
    multiplier = _d(terms.get("wagering_multiplier")) or Decimal("0")
    if rules.bonus_wagering_cap is not None and multiplier > rules.bonus_wagering_cap:
        out.append(
            Problem(
                "wagering_cap",
                "wagering_multiplier",
                f"{code}: wagering of at most {rules.bonus_wagering_cap}x (from {rules.effective_from:%d %b %Y}).",
                code,
            )
        )
    products = list(terms.get("products") or [])
    if rules.bonus_single_product and len(products) != 1:
        out.append(Problem("single_product", "products", f"{code}: a bonus covers exactly one product.", code))
    if rules.bonus_first_occasion_only and terms.get("type") in REPEAT_TYPES:
        out.append(
            Problem(
                "first_occasion",
                "type",
                f"{code}: a bonus only on the player's first occasion, never a reload or cashback.",
                code,
            )
        )
    days = terms.get("days_to_wager")
    if rules.bonus_min_days_to_wager is not None and (days is None or int(days) < rules.bonus_min_days_to_wager):
        out.append(
            Problem(
                "min_days_to_wager",
                "days_to_wager",
                f"{code}: at least {rules.bonus_min_days_to_wager} days to meet the wagering.",
                code,
            )
        )
    currency = terms.get("currency")
    if rules.allowed_currencies and currency not in rules.allowed_currencies:
        out.append(
            Problem(
                "currency",
                "currency",
                f"{code}: the currency is not allowed ({', '.join(rules.allowed_currencies)}).",
                code,
            )
        )
    caps = [cap for cap in rules.stake_caps if cap.game_category == CASINO_CAP_CATEGORY]
    if caps and Product.CASINO in products:
        max_bet = _d(terms.get("max_bet"))
        highest = max(caps, key=lambda cap: cap.max_stake)
        if max_bet is None:
            out.append(
                Problem(
                    "max_bet_stake_cap",
                    "max_bet",
                    f"{code}: a casino bonus names its maximum bet (slots are capped at {highest.max_stake} "
                    f"{highest.currency}).",
                    code,
                )
            )
        elif any(cap.currency != currency for cap in caps):
            out.append(
                Problem(
                    "max_bet_stake_cap",
                    "currency",
                    f"{code}: the stake caps are in {highest.currency}; a bonus in {currency} cannot be held to them.",
                    code,
                )
            )
        elif max_bet > highest.max_stake:
            out.append(
                Problem(
                    "max_bet_stake_cap",
                    "max_bet",
                    f"{code}: the maximum bet is above the slot stake cap of {highest.max_stake} {highest.currency}.",
                    code,
                )
            )
    return out


def template_problems(terms: dict[str, Any], *, snap: GeoSnapshot | None = None) -> list[Problem]:
    """Every rule ``terms`` break in the jurisdictions they name, over their validity window. A named
    jurisdiction without a rule pack is a problem (fail closed)."""
    snap = snap or geo_config.snapshot()
    start: datetime = terms["valid_from"]
    end: datetime | None = terms.get("valid_until")
    out: list[Problem] = []
    for code in terms.get("jurisdictions") or []:
        packs = packs_in_window(snap, code, start, end)
        if not packs:
            out.append(Problem("jurisdiction", "jurisdictions", f"{code}: no rule pack in force.", code))
            continue
        seen: set[str] = set()
        for rules in packs:
            for problem in pack_problems(terms, rules):
                if problem.message not in seen:
                    seen.add(problem.message)
                    out.append(problem)
    return out


def award_problems(terms: dict[str, Any], *, rules: Rules | None, age: int, first_occasion: bool) -> list[Problem]:
    """The rules at the award, for one player: the pack in force now for the player's jurisdiction, the
    maximum bet against the player's own slot cap, and the first occasion."""
    if rules is None:
        return [Problem("jurisdiction", "jurisdictions", "The player's jurisdiction has no rule pack in force.", "")]
    out = pack_problems(terms, rules)
    code = rules.jurisdiction
    cap = rules.max_stakes_for_age(age).get(CASINO_CAP_CATEGORY)
    max_bet = _d(terms.get("max_bet"))
    products = list(terms.get("products") or [])
    if cap is not None and Product.CASINO in products and max_bet is not None and max_bet > cap.max_stake:
        out.append(
            Problem(
                "max_bet_stake_cap",
                "max_bet",
                f"{code}: the maximum bet {max_bet} is above this player's slot stake cap of {cap.max_stake} "
                f"{cap.currency} (age {age}).",
                code,
            )
        )
    if rules.bonus_first_occasion_only and not first_occasion:
        out.append(
            Problem(
                "first_occasion",
                "player",
                f"{code}: a bonus only on the first occasion the player plays, and this player has played or had one.",
                code,
            )
        )
    return out
