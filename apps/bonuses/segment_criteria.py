"""The bonus count as a CRM segment criterion, declared as plain data (the CRM sits above the bonuses in the
layers and registers it from its own ``ready()``: apps.crm.criteria.register_declared).

``bonus_count``: ``{"min": int | null, "max": int | null, "days": int | null}``, the player's bonuses awarded
(activated) ever or within the last ``days`` days."""

from __future__ import annotations

from typing import Any

LIMIT = 1_000_000


def _int(value: Any, name: str, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{name}: a whole number.")
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise ValueError(f"{name}: a whole number.") from exc
    if not low <= number <= high:
        raise ValueError(f"{name}: from {low} to {high}.")
    return number


def validate(raw: Any) -> dict[str, int | None]:
    if not isinstance(raw, dict) or set(raw) - {"min", "max", "days"}:
        raise ValueError("The bonus count is {min, max, days}.")
    value = {
        "min": _int(raw.get("min"), "min", 0, LIMIT),
        "max": _int(raw.get("max"), "max", 0, LIMIT),
        "days": _int(raw.get("days"), "days", 1, 3650),
    }
    if value["min"] is None and value["max"] is None:
        raise ValueError("Give a minimum or a maximum number of bonuses.")
    if value["min"] is not None and value["max"] is not None and value["min"] > value["max"]:
        raise ValueError("The minimum is above the maximum.")
    return value


def build(value: dict[str, int | None]) -> tuple[str, list[Any]]:
    """One correlated count per bound, over the (player, state) index; every value a parameter."""
    count, count_params = (
        "(SELECT count(*) FROM bonuses_playerbonus b WHERE b.player_id = p.id AND b.activated_at IS NOT NULL)",
        [],
    )
    if value["days"] is not None:
        count = (
            "(SELECT count(*) FROM bonuses_playerbonus b WHERE b.player_id = p.id AND b.activated_at IS NOT NULL "
            "AND b.activated_at >= now() - make_interval(days => %s))"
        )
        count_params = [value["days"]]
    parts: list[str] = []
    params: list[Any] = []
    for bound, op in (("min", ">="), ("max", "<=")):
        if value[bound] is not None:
            parts.append(f"{count} {op} %s")
            params += [*count_params, value[bound]]
    return " AND ".join(parts), params


CRITERIA = (
    {
        "name": "bonus_count",
        "label": "Bonuses received (ever, or in the last days)",
        "validate": validate,
        "build": build,
    },
)
