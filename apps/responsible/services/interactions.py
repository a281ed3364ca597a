"""Interactions: staff record a call or an e-mail with the player and its outcome."""

from __future__ import annotations

from django.db import transaction

from apps.audit.services import audit_log
from apps.core.errors import ValidationFailed
from apps.players.models import Player
from apps.responsible.models import Interaction
from apps.staff.models import StaffUser


@transaction.atomic
def interaction_record(*, actor: StaffUser, player: Player, channel: str, summary: str, outcome: str) -> Interaction:
    from apps.responsible.choices import InteractionChannel

    fields = {}
    if channel not in InteractionChannel.values:
        fields["channel"] = [f"One of {', '.join(InteractionChannel.values)}."]
    if not summary.strip():
        fields["summary"] = ["Required."]
    if not outcome.strip():
        fields["outcome"] = ["Required."]
    if fields:
        raise ValidationFailed("The interaction is incomplete.", fields=fields)
    interaction = Interaction.objects.create(
        player=player, channel=channel, summary=summary.strip(), outcome=outcome.strip()[:200], staff=actor
    )
    audit_log(actor=actor, action="rg.interaction_recorded", target=player, data={"channel": channel})
    return interaction
