"""The criteria CRM Managers pick from (registered by apps.crm's AppConfig.ready, see criteria.py): each a
validator into a normal form and a builder of one parameterised SQL fragment over the player row ``p``."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from apps.crm.criteria import (
    CHANNELS,
    COUNTRY,
    CURRENCY,
    JURISDICTION,
    MAX_AMOUNT,
    MAX_DAYS,
    MAX_LIST,
    TAG,
    Context,
    Criterion,
    CriterionInvalid,
    Fragment,
    Rollup,
    RollupSum,
)
from apps.players.choices import VipTier

# --- validation helpers ---------------------------------------------------------------------------------------


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise CriterionInvalid(f"{what} must be text.")
    if "\x00" in value or not value.isprintable():
        raise CriterionInvalid(f"{what} holds a control character.")
    return value.strip()


def _codes(value: Any, pattern: re.Pattern[str], what: str, *, upper: bool = True) -> list[str]:
    if not isinstance(value, list) or not value:
        raise CriterionInvalid(f"Choose at least one {what}.")
    if len(value) > MAX_LIST:
        raise CriterionInvalid(f"At most {MAX_LIST} values.")
    codes = []
    for item in value:
        text = _text(item, what)
        text = text.upper() if upper else text
        if not pattern.match(text):
            raise CriterionInvalid(f"{text[:20]!r} is not a valid {what}.")
        if text not in codes:
            codes.append(text)
    return sorted(codes)


def _object(value: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CriterionInvalid("Must be an object.")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise CriterionInvalid(f"Unknown key {str(unknown[0])[:20]!r}; expected {', '.join(sorted(allowed))}.")
    return value


def _days(value: Any, what: str = "Days") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 6:
            value = int(value.strip())
        else:
            raise CriterionInvalid(f"{what} must be a whole number.")
    if not 1 <= value <= MAX_DAYS:
        raise CriterionInvalid(f"{what} must be between 1 and {MAX_DAYS}.")
    return value


def _amount(value: Any, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CriterionInvalid(f'{what} must be a decimal amount written as text, e.g. "100.00".')
    text = str(value).strip()
    if len(text) > 20 or not re.match(r"^-?[0-9]+(\.[0-9]{1,4})?$", text):
        raise CriterionInvalid(f'{what} must be a decimal amount with at most 4 decimals, e.g. "100.00".')
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover (the pattern already refused it)
        raise CriterionInvalid(f"{what} is not a number.") from exc
    if abs(amount) > MAX_AMOUNT:
        raise CriterionInvalid(f"{what} must be at most {MAX_AMOUNT:,} in absolute value.")
    return amount


def _date(value: Any, what: str) -> date | None:
    if value is None or value == "":
        return None
    text = _text(value, what)
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CriterionInvalid(f"{what} must be a date written YYYY-MM-DD.") from exc


# --- the criteria -----------------------------------------------------------------------------------------------


def _list_of(pattern: re.Pattern[str], what: str) -> Callable[[Any], list[str]]:
    return lambda value: _codes(value, pattern, what)


def _column_in(column: str) -> Callable[[Any, Context], Fragment]:
    return lambda value, ctx: Fragment(f"p.{column} = ANY(%s)", (list(value),))


def _validate_vip(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise CriterionInvalid("Choose at least one VIP tier.")
    tiers = []
    for item in value:
        if not isinstance(item, str) or item not in VipTier.values:
            raise CriterionInvalid(f"Choose VIP tiers from {', '.join(v or 'none' for v in VipTier.values)}.")
        if item not in tiers:
            tiers.append(item)
    return sorted(tiers)


def _validate_jurisdiction(value: Any) -> list[str]:
    from apps.geo import config as geo_config

    codes = _codes(value, JURISDICTION, "jurisdiction code")
    unknown = [code for code in codes if code not in geo_config.snapshot().packs]
    if unknown:
        raise CriterionInvalid(f"No jurisdiction {unknown[0]!r} has rules: choose a licensed market.")
    return codes


def _build_jurisdiction(value: list[str], ctx: Context) -> Fragment:
    """The player's jurisdiction as can() finds it (``GeoSnapshot.jurisdiction_code``): the region's own when
    the region is a jurisdiction, else the country's. Resolved here against the known jurisdictions, so the
    query compares plain columns."""
    regions, countries = ctx.jurisdictions()
    chosen_regions = [code for code in value if code in regions]
    chosen_countries = [code for code in value if code in countries]
    return Fragment(
        "(p.region = ANY(%s) OR (p.country = ANY(%s) AND NOT (p.region = ANY(%s))))",
        (chosen_regions, chosen_countries, sorted(regions)),
    )


def _validate_tags(value: Any) -> dict[str, Any]:
    data = _object(value, {"any", "all"})
    if len(data) != 1:
        raise CriterionInvalid("Give either the tags of which a player has any, or those they all have.")
    mode, names = next(iter(data.items()))
    return {mode: _codes(names, TAG, "tag", upper=False)}


def _build_tags(value: dict[str, list[str]], ctx: Context) -> Fragment:
    mode, names = next(iter(value.items()))
    pairs = (
        "SELECT pt.player_id FROM players_player_tags pt JOIN players_tag t ON t.id = pt.tag_id WHERE t.name = ANY(%s)"
    )
    if mode == "any":
        return Fragment(f"p.id IN ({pairs})", (names,))
    return Fragment(f"p.id IN ({pairs} GROUP BY pt.player_id HAVING count(DISTINCT t.id) = %s)", (names, len(names)))


def _validate_registered(value: Any) -> dict[str, str]:
    data = _object(value, {"from", "to"})
    start, end = _date(data.get("from"), "From"), _date(data.get("to"), "To")
    if start is None and end is None:
        raise CriterionInvalid("Give a first day, a last day or both.")
    if start is not None and end is not None and end < start:
        raise CriterionInvalid("The last day is before the first.")
    return {k: v.isoformat() for k, v in (("from", start), ("to", end)) if v is not None}


def _midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(0), tzinfo=timezone.get_default_timezone())


def _build_registered(value: dict[str, str], ctx: Context) -> Fragment:
    """Registration days on the operator's clock (UTC), both ends included."""
    parts, params = [], []
    if "from" in value:
        parts.append("p.created_at >= %s")
        params.append(_midnight(value["from"]))
    if "to" in value:
        parts.append("p.created_at < %s")
        params.append(_midnight(value["to"]) + timedelta(days=1))
    return Fragment(" AND ".join(parts), tuple(params))


def _validate_last_login(value: Any) -> dict[str, int]:
    data = _object(value, {"within_days", "not_within_days"})
    if len(data) != 1:
        raise CriterionInvalid("Give either 'within the last N days' or 'not within the last N days'.")
    mode, days = next(iter(data.items()))
    return {mode: _days(days)}


def _build_last_login(value: dict[str, int], ctx: Context) -> Fragment:
    mode, days = next(iter(value.items()))
    since = ctx.now - timedelta(days=days)
    if mode == "within_days":
        return Fragment("p.last_login_at >= %s", (since,))
    return Fragment("(p.last_login_at IS NULL OR p.last_login_at < %s)", (since,))


def _validate_money(value: Any) -> dict[str, Any]:
    data = _object(value, {"min", "max", "days"})
    low, high = _amount(data.get("min"), "Minimum"), _amount(data.get("max"), "Maximum")
    if low is None and high is None:
        raise CriterionInvalid("Give a minimum, a maximum or both.")
    if low is not None and high is not None and high < low:
        raise CriterionInvalid("The maximum is below the minimum.")
    found: dict[str, Any] = {k: str(v) for k, v in (("min", low), ("max", high)) if v is not None}
    if data.get("days") not in (None, ""):
        found["days"] = _days(data["days"], "The window")
    return found


def _since(value: dict[str, Any], ctx: Context) -> date | None:
    """The last N days are today (on the operator's clock, UTC) and the N-1 days before: rollup days after this."""
    if "days" not in value:
        return None
    return ctx.now.astimezone(timezone.get_default_timezone()).date() - timedelta(days=value["days"])


def _money(column: str) -> tuple[Callable[[dict[str, Any], Context], Fragment], Rollup]:
    def rollup(value: dict[str, Any], ctx: Context) -> RollupSum:
        since = _since(value, ctx)
        if since is None:
            return RollupSum(f"sum({column})", (), None)
        return RollupSum(f"sum({column}) FILTER (WHERE d.day > %s)", (since,), since)

    def build(value: dict[str, Any], ctx: Context) -> Fragment:
        # ``{rollup}`` is this criterion's sum for the player, 0 without rollup rows (compile_query joins them)
        parts, bounds = [], []
        for key, op in (("min", ">="), ("max", "<=")):
            if key in value:
                parts.append(f"{{rollup}} {op} %s")
                bounds.append(Decimal(value[key]))
        return Fragment(" AND ".join(parts), tuple(bounds))

    return build, rollup


def _validate_kyc(value: Any) -> dict[str, int]:
    data = _object(value, {"min", "max"})
    found = {}
    for key in ("min", "max"):
        raw = data.get(key)
        if raw in (None, ""):
            continue
        if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) < 3:
            raw = int(raw.strip())
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 3:
            raise CriterionInvalid("KYC levels are 0 to 3.")
        found[key] = raw
    if not found:
        raise CriterionInvalid("Give a lowest level, a highest level or both.")
    if found.get("max", 3) < found.get("min", 0):
        raise CriterionInvalid("The highest level is below the lowest.")
    return found


def _build_kyc(value: dict[str, int], ctx: Context) -> Fragment:
    """The level is ``kyc_kycprofile.level`` (no row reads as 0, as can() reads it)."""
    low, high = value.get("min", 0), value.get("max", 3)
    if low == 0:  # players without a profile are at 0, inside the range
        return Fragment(
            "p.id NOT IN (SELECT k.player_id FROM kyc_kycprofile k WHERE k.level NOT BETWEEN %s AND %s)", (low, high)
        )
    return Fragment("p.id IN (SELECT k.player_id FROM kyc_kycprofile k WHERE k.level BETWEEN %s AND %s)", (low, high))


def _validate_consent(value: Any) -> dict[str, bool]:
    data = _object(value, set(CHANNELS))
    if not data:
        raise CriterionInvalid("Choose at least one channel.")
    for channel, given in data.items():
        if not isinstance(given, bool):
            raise CriterionInvalid(f"{channel}: true (consented) or false (not consented).")
    return {channel: data[channel] for channel in CHANNELS if channel in data}


def _build_consent(value: dict[str, bool], ctx: Context) -> Fragment:
    # the column names come from CHANNELS (validated), never from the input's text
    parts = [f"p.marketing_{channel} = %s" for channel in CHANNELS if channel in value]
    return Fragment(" AND ".join(parts), tuple(value[channel] for channel in CHANNELS if channel in value))


BUILTINS = (
    Criterion("country", "Country of residence", _list_of(COUNTRY, "country code"), _column_in("country")),
    Criterion("jurisdiction", "Jurisdiction", _validate_jurisdiction, _build_jurisdiction),
    Criterion("vip_tier", "VIP tier", _validate_vip, _column_in("vip_tier")),
    Criterion("tags", "Tags", _validate_tags, _build_tags),
    Criterion("registered", "Registration date", _validate_registered, _build_registered),
    Criterion("last_login", "Last login", _validate_last_login, _build_last_login),
    Criterion("deposits", "Deposits", _validate_money, *_money("d.deposits"), money=True),
    Criterion("ggr", "GGR (stakes - wins)", _validate_money, *_money("d.stakes - d.wins"), money=True),
    Criterion("kyc_level", "KYC level", _validate_kyc, _build_kyc),
    Criterion("consent", "Marketing consent", _validate_consent, _build_consent),
    Criterion("currency", "Wallet currency", _list_of(CURRENCY, "currency code"), _column_in("currency")),
)
