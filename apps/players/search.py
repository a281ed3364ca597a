"""Unfold's command palette (Ctrl+K, the menu's search box) finds players (settings.UNFOLD["COMMAND"])."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from unfold.dataclasses import SearchResult

from apps.players.models import Player

PLAYER_SEARCH_RESULTS = 10  # in the palette; the player list shows the rest


def command_search(request: HttpRequest, search_term: str) -> list[SearchResult]:
    """Players by name, e-mail, external id, username or phone, through the player list's own search
    (PlayerAdmin.get_search_results over its get_queryset), so it finds exactly what that list would show this
    member, and nothing for who may not open it."""
    model_admin = admin.site._registry.get(Player)
    term = (search_term or "").strip()
    if model_admin is None or len(term) < 2 or not model_admin.has_view_permission(request):
        return []
    queryset, _ = model_admin.get_search_results(request, model_admin.get_queryset(request), term)
    players = queryset.select_related("brand").order_by("-id")[:PLAYER_SEARCH_RESULTS]
    return [
        SearchResult(
            title=f"{p.first_name} {p.last_name} ({p.external_id})",
            description=f"player, {p.brand.name}, {p.email}, {p.get_status_display()}",
            link=reverse("admin:players_player_change", args=[p.pk]),
            icon="person",
        )
        for p in players
    ]
