"""What the player page's capability panel says about this app's refusals: which exclusion closes the action,
and why (for staff who may read exclusions). Registered with apps.players.page on import of this package."""

from __future__ import annotations

from typing import Any

from apps.core.read_scope import in_scope
from apps.players.page import register_reason_detail
from apps.responsible.choices import CoverLink, ExclusionKind
from apps.responsible.coverage import REASONS, person_q
from apps.responsible.models import Exclusion
from apps.responsible.selectors import COVERING_LIMIT, page_covering


def _person_exclusions(player: Any) -> list[Exclusion]:
    """The newest 20 exclusions of ``person_q`` not superseded. On the player page (a read scope), taken from the
    safer-gambling section's ``exclusions_covering`` when that list is complete (fewer than its limit) and tells
    every person match apart: its other rows are exclusions only a payment instrument links, and superseded ones."""
    covering = page_covering(player) if in_scope() else None
    if covering is None or len(covering) >= COVERING_LIMIT or any(c.how == [INSTRUMENT_ONLY] for c in covering):
        # an instrument link alone could hide an account cover that adds no words: ask the database
        return list(Exclusion.objects.filter(person_q(player), superseded_by=None).order_by("-id")[:20])
    return [c.exclusion for c in covering if c.exclusion.superseded_by_id is None][:20]


def exclusion_details(player: Any, user: Any) -> dict[str, str]:
    """Per refusal code (``self_excluded``, ``operator_blocked``...), the exclusion in force behind it."""
    if user is None or not user.has_perm("responsible.view_exclusion"):
        return {}
    details: dict[str, list[str]] = {}
    for exclusion in _person_exclusions(player):
        if not exclusion.in_force():
            continue
        if exclusion.kind == ExclusionKind.OPERATOR:
            code = "operator_blocked" if exclusion.capabilities else REASONS[exclusion.kind]
            text = f"exclusion #{exclusion.pk}: {exclusion.reason}"
        elif exclusion.kind == ExclusionKind.SELF_EXCLUSION:
            code, text = REASONS[exclusion.kind], f"exclusion #{exclusion.pk}, {exclusion.term} chosen by the player"
        else:
            code, text = REASONS[exclusion.kind], f"exclusion #{exclusion.pk}, {exclusion.term} time-out"
        if exclusion.player_id != player.pk:
            text += ", placed on another account of the same person"
        details.setdefault(code, []).append(text)
    return {code: "; ".join(texts) for code, texts in details.items()}


INSTRUMENT_ONLY = CoverLink.INSTRUMENT.label
register_reason_detail(exclusion_details)
