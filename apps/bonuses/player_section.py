"""The player page's bonus section (apps.players.page.register_section, from BonusesConfig.ready): the player's
open bonuses with their wagering progress bars, the last ended ones, and links to the bonus pages. Only for staff
with bonuses.view_playerbonus (the context is None before anything is read for anyone else)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from apps.bonuses.choices import OPEN_STATES
from apps.bonuses.models import BonusFlag, PlayerBonus

VIEW = "bonuses.view_playerbonus"


def sees_bonuses(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(VIEW))


def player_bonuses_section(request: HttpRequest, player: Any) -> dict[str, Any] | None:
    if not sees_bonuses(request):
        return None
    rows = list(
        PlayerBonus.objects.filter(player=player).select_related("template").order_by("-offered_at", "-id")[:15]
    )
    flags = (
        list(BonusFlag.objects.filter(player=player).order_by("-created_at")[:5])
        if request.user.has_perm("bonuses.view_bonusflag")
        else []
    )
    return {
        "flags": flags,
        "open": [b for b in rows if b.state in OPEN_STATES],
        "ended": [b for b in rows if b.state not in OPEN_STATES][:5],
        "all_url": f"{reverse('admin:bonuses_playerbonus_changelist')}?q={player.external_id}",
    }
