"""``{% player_result_list cl %}``: the player list's table with rows built by apps.players.changelist;
``{% player_filter spec title choices %}``: a list filter's markup (apps.players.admin_filters.filter_markup)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.views.main import ChangeList
from django.utils.safestring import SafeString
from unfold.templatetags import unfold_list

from apps.players import changelist

register = template.Library()


@register.inclusion_tag("admin/players/player/change_list_rows.html", takes_context=True)
def player_result_list(context: Any, cl: ChangeList) -> dict[str, Any]:
    if changelist.unsupported(cl):  # unfold renders what is not built here
        return {**unfold_list.result_list(context, cl), "by_unfold": True}
    return changelist.result_list(context, cl)


@register.simple_tag
def player_filter(spec: Any, title: Any, choices: list[dict[str, Any]]) -> SafeString:
    from apps.players.admin_filters import filter_markup  # imports unfold's admin, which loads template tags

    return filter_markup(spec, title, choices)


@register.simple_tag(takes_context=True)
def player_pagination(context: Any) -> SafeString:
    return changelist.pagination_markup(context, context["cl"])
