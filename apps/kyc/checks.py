"""KYC in ``can()``: the player's level and open requirements, two columns of the eligibility query's one row
(a primary-key read and an indexed read of the open requirements: no second round trip).

For a gated act (deposit, bet, game launch, withdrawal) the check refuses

- ``kyc_required`` when an open requirement restricts it (at once, or once overdue) and the level is below it;
- ``kyc_level_insufficient`` when the jurisdiction's rule pack needs a higher level for it;

and says in ``restrictions["kyc"]`` the level, the level needed and, for a requirement, its due date.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from apps.players.choices import Action
from apps.players.eligibility import CheckContext

LEVEL_FACT = "coalesce((SELECT k.level FROM kyc_kycprofile k WHERE k.player_id = p.id), 0)"
REQUIREMENTS_FACT = """(
    SELECT coalesce(jsonb_agg(jsonb_build_array(r.level, r.restricts, r.restricts_when_overdue, r.due_at)),
                    '[]'::jsonb)
    FROM kyc_requirement r WHERE r.player_id = p.id AND r.state = 'open'
)"""
GATED = {
    Action.DEPOSIT: "kyc_level_to_deposit",
    Action.BET: "kyc_level_to_play",
    Action.GAME_LAUNCH: "kyc_level_to_play",
    Action.WITHDRAW: "kyc_level_to_withdraw",
}
REASONS = ("kyc_required", "kyc_level_insufficient")


def open_requirements(facts: dict[str, Any]) -> list[tuple[int, list[str], list[str], datetime]]:
    value = facts.get("kyc_requirements")
    if isinstance(value, str):  # Django's driver setup hands jsonb over as text
        value = facts["kyc_requirements"] = json.loads(value)
    return [(int(lv), list(now), list(later), datetime.fromisoformat(due)) for lv, now, later, due in value or []]


def requirement_level_for(facts: dict[str, Any], action: str, now: datetime) -> tuple[int, datetime | None]:
    """The highest level an open requirement needs before ``action`` at ``now``, and that requirement's due date."""
    needed, due_at = 0, None
    for level, restricts, when_overdue, due in open_requirements(facts):
        if (action in restricts or (action in when_overdue and due <= now)) and level > needed:
            needed, due_at = level, due
    return needed, due_at


def check_kyc(ctx: CheckContext) -> None:
    field = GATED.get(ctx.action)  # type: ignore[call-overload]
    if field is None:
        return
    level = int(ctx.facts.get("kyc_level") or 0)
    rules = ctx.geo.rules
    by_rule = int(getattr(rules, field)) if rules is not None else 0
    by_requirement, due_at = requirement_level_for(ctx.facts, ctx.action, ctx.now)
    needed = max(by_rule, by_requirement)
    if needed <= level:
        return
    if by_requirement > level:
        ctx.result.deny("kyc_required")
    else:
        ctx.result.deny("kyc_level_insufficient")
    ctx.result.restrictions["kyc"] = {
        "level": level,
        "level_needed": needed,
        **({"due_at": due_at.isoformat()} if due_at is not None and by_requirement > level else {}),
    }
