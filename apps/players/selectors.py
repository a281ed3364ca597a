from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.core.errors import NotFound
from apps.players.models import Player


def player_get(*, external_id: str) -> Player:
    player = Player.objects.filter(external_id=external_id).first()
    if player is None:
        raise NotFound("No player with this external_id.", code="player_not_found")
    return player


def players_same_person(player: Player) -> QuerySet[Player]:
    """Other accounts that share the identity fingerprint, the e-mail or the phone (indexed hash lookups)."""
    match = Q(identity_fingerprint=player.identity_fingerprint) | Q(email_hash=player.email_hash)
    if player.phone_hash:
        match |= Q(phone_hash=player.phone_hash)
    return Player.objects.filter(match).exclude(pk=player.pk).order_by("-id")
