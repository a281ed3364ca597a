"""``{% player_result_list cl %}``: the player list's table with rows built by apps.players.changelist."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.views.main import ChangeList
from unfold.templatetags import unfold_list

from apps.players import changelist

register = template.Library()


@register.inclusion_tag("admin/players/player/change_list_rows.html", takes_context=True)
def player_result_list(context: Any, cl: ChangeList) -> dict[str, Any]:
    if changelist.unsupported(cl):  # unfold renders what is not built here
        return {**unfold_list.result_list(context, cl), "by_unfold": True}
    return changelist.result_list(context, cl)
