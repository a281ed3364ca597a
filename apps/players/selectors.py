from __future__ import annotations

from collections.abc import Collection

from django.db.models import Q, QuerySet

from apps.core.errors import PlayerNotFound
from apps.players.models import Player


def player_get(*, external_id: str, brand_ids: Collection[int] | None = None) -> Player:
    """The player by external id; with ``brand_ids`` (an API client's brands) only among those brands' players,
    so another brand's player is the same 404 as a player that does not exist."""
    found = Player.objects.filter(external_id=external_id)
    if brand_ids is not None:
        found = found.filter(brand_id__in=brand_ids)
    player = found.first()
    if player is None:
        raise PlayerNotFound("No player with this external_id.")
    return player


def players_same_person(player: Player) -> QuerySet[Player]:
    """Other accounts that share the identity fingerprint, the e-mail or the phone (indexed hash lookups)."""
    match = Q(identity_fingerprint=player.identity_fingerprint) | Q(email_hash=player.email_hash)
    if player.phone_hash:
        match |= Q(phone_hash=player.phone_hash)
    return Player.objects.filter(match).exclude(pk=player.pk).order_by("-id")
