"""Checks of rule packs and overrides typed by staff: a bad value is a form error, never a broken check."""

from __future__ import annotations

import ipaddress
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from apps.core.iso import COUNTRIES, CURRENCIES
from apps.geo.choices import GameCategory
from apps.geo.terms import is_valid_term

if TYPE_CHECKING:
    from apps.geo.models import IpOverride, RulePack

PERIODS = {"day", "week", "month", "any"}
REGISTER_CHECK_POINTS = frozenset({"registration", "login", "game_launch", "marketing"})
# Every key a cap may carry (the rule pack form has a field for each): anything else is a typing mistake.
CAP_KEYS = {
    "deposit_caps": frozenset(
        {"period", "amount", "currency", "net", "cross_operator", "mandatory_own_limit", "min_age", "max_age"}
    ),
    "stake_caps": frozenset({"game_category", "max_stake", "currency", "min_age", "max_age"}),
}
FLAGS = ("net", "cross_operator", "mandatory_own_limit")


def _money(value: Any) -> bool:
    try:
        return not isinstance(value, bool) and Decimal(str(value)) >= 0
    except (InvalidOperation, ValueError):
        return False


def _age(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 150)


def _cap_problem(field: str, cap: Any) -> str | None:
    """What is wrong with one cap, in words, or None."""
    if not isinstance(cap, dict):
        return "must be an object of keys and values."
    unknown = sorted(set(cap) - CAP_KEYS[field])
    if unknown:
        return f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(CAP_KEYS[field]))}."
    if field == "stake_caps":
        if cap.get("game_category") not in GameCategory.values:
            return f"the game category (game_category) must be one of {', '.join(GameCategory.values)}."
        if not _money(cap.get("max_stake")) or cap.get("currency") not in CURRENCIES:
            return "the maximum stake (max_stake) must be an amount of 0 or more, with a known currency (currency)."
    else:
        if cap.get("period") not in PERIODS:
            return f"the period (period) must be one of {', '.join(sorted(PERIODS))}."
        if "amount" in cap and (not _money(cap["amount"]) or cap.get("currency") not in CURRENCIES):
            return "the amount (amount) must be 0 or more, with a known currency (currency)."
        if "amount" not in cap and cap.get("currency"):
            return "a currency without an amount: give the amount or clear the currency."
        if any(not isinstance(cap.get(flag, False), bool) for flag in FLAGS):
            return f"{', '.join(FLAGS)} are true or false."
    if not (_age(cap.get("min_age")) and _age(cap.get("max_age"))):
        return "the ages (min_age, max_age) must be whole years from 0 to 150."
    if cap.get("min_age") is not None and cap.get("max_age") is not None and cap["min_age"] > cap["max_age"]:
        return "the first age (min_age) is above the last (max_age)."
    return None


def validate_rule_pack(pack: RulePack) -> None:
    errors: dict[str, list[str]] = {}
    bad = [c for c in pack.allowed_currencies if c not in CURRENCIES]
    if bad:
        errors["allowed_currencies"] = [f"Unknown currency code(s): {', '.join(bad)}."]
    if pack.cdd_currency not in CURRENCIES:
        errors["cdd_currency"] = ["Unknown currency code."]
    for field in ("deposit_caps", "stake_caps"):
        caps = getattr(pack, field)
        if not isinstance(caps, list):
            errors[field] = ["A list of caps."]
            continue
        for i, cap in enumerate(caps):
            problem = _cap_problem(field, cap)
            if problem:
                errors.setdefault(field, []).append(f"Cap {i + 1}: {problem}")
    bad_terms = [t for t in pack.self_exclusion_terms if not is_valid_term(t)]
    if bad_terms:
        errors["self_exclusion_terms"] = [f"Not a term (24h, 7d, 6w, 6m, 1y, permanent): {', '.join(bad_terms)}."]
    bad_points = sorted(set(pack.register_check_points) - REGISTER_CHECK_POINTS)
    if bad_points:
        errors["register_check_points"] = [f"Choose from {', '.join(sorted(REGISTER_CHECK_POINTS))}."]
    low, high = pack.timeout_min_hours, pack.timeout_max_hours
    if low is not None and high is not None and low > high:
        errors["timeout_max_hours"] = [f"Below the shortest time-out ({low} hours)."]
    if (pack.session_break_after_minutes is None) != (pack.session_break_minutes is None):
        errors["session_break_minutes"] = ["A break needs both: when it starts and how long it lasts."]
    if errors:
        raise ValidationError(errors)


def validate_ip_override(override: IpOverride) -> None:
    try:
        network = ipaddress.ip_network(override.network.strip(), strict=False)
    except ValueError as exc:
        raise ValidationError({"network": [f"Not a CIDR network: {exc}"]}) from exc
    override.network = str(network)
    if override.action == "country" and override.country.upper() not in COUNTRIES:
        raise ValidationError({"country": ["An ISO 3166-1 alpha-2 country is required for this action."]})
    if override.action == "block" and override.country:
        raise ValidationError({"country": ["Leave the country empty for a block."]})
    override.country = override.country.upper()
