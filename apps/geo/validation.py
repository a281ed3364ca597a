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


def _money(value: Any) -> bool:
    try:
        return Decimal(str(value)) >= 0
    except (InvalidOperation, ValueError):
        return False


def _age(value: Any) -> bool:
    return value is None or (isinstance(value, int) and 0 <= value <= 150)


def validate_rule_pack(pack: RulePack) -> None:
    errors: dict[str, list[str]] = {}
    bad = [c for c in pack.allowed_currencies if c not in CURRENCIES]
    if bad:
        errors["allowed_currencies"] = [f"Unknown currency code(s): {', '.join(bad)}."]
    if pack.cdd_currency not in CURRENCIES:
        errors["cdd_currency"] = ["Unknown currency code."]
    if not isinstance(pack.stake_caps, list):
        errors["stake_caps"] = ["A list of caps."]
    else:
        for i, cap in enumerate(pack.stake_caps):
            if not isinstance(cap, dict) or cap.get("game_category") not in GameCategory.values:
                errors.setdefault("stake_caps", []).append(
                    f"Cap {i + 1}: game_category must be one of {GameCategory.values}."
                )
            elif not _money(cap.get("max_stake")) or cap.get("currency") not in CURRENCIES:
                errors.setdefault("stake_caps", []).append(
                    f"Cap {i + 1}: max_stake (decimal) and currency are required."
                )
            elif not (_age(cap.get("min_age")) and _age(cap.get("max_age"))):
                errors.setdefault("stake_caps", []).append(f"Cap {i + 1}: min_age / max_age must be whole years.")
    if not isinstance(pack.deposit_caps, list):
        errors["deposit_caps"] = ["A list of caps."]
    else:
        for i, cap in enumerate(pack.deposit_caps):
            if not isinstance(cap, dict) or cap.get("period") not in PERIODS:
                errors.setdefault("deposit_caps", []).append(f"Cap {i + 1}: period must be one of {sorted(PERIODS)}.")
            elif "amount" in cap and (not _money(cap["amount"]) or cap.get("currency") not in CURRENCIES):
                errors.setdefault("deposit_caps", []).append(f"Cap {i + 1}: amount (decimal) needs a currency.")
    bad_terms = [t for t in pack.self_exclusion_terms if not is_valid_term(t)]
    if bad_terms:
        errors["self_exclusion_terms"] = [f"Not a term (24h, 7d, 6w, 6m, 1y, permanent): {', '.join(bad_terms)}."]
    bad_points = sorted(set(pack.register_check_points) - REGISTER_CHECK_POINTS)
    if bad_points:
        errors["register_check_points"] = [f"Choose from {', '.join(sorted(REGISTER_CHECK_POINTS))}."]
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
