"""What the player page's capability panel says about this app's refusals: which exclusion closes the action,
and why (for staff who may read exclusions). Registered with apps.players.page on import of this package."""

from __future__ import annotations

from typing import Any

from apps.players.page import register_reason_detail
from apps.responsible.choices import ExclusionKind
from apps.responsible.coverage import REASONS, person_q
from apps.responsible.models import Exclusion


def exclusion_details(player: Any, user: Any) -> dict[str, str]:
    """Per refusal code (``self_excluded``, ``operator_blocked``...), the exclusion in force behind it."""
    if user is None or not user.has_perm("responsible.view_exclusion"):
        return {}
    details: dict[str, list[str]] = {}
    for exclusion in Exclusion.objects.filter(person_q(player), superseded_by=None).order_by("-id")[:20]:
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


register_reason_detail(exclusion_details)
