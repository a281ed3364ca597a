"""Deposit triggers: a deposit awards the bonus waiting for it (docs/BONUSES.md, "Deposit triggers").

A durable consumer of deposit postings (``apps.wallet.events.register_consumer``), after the deposit committed,
one player's deposits at a time and in order. For each deposit:

1. an offer of a deposit type (match, reload) waiting for the player in the deposit's currency is claimed with
   the deposit's amount (the oldest first; one refused, the next is tried);
2. else the published templates with a deposit trigger in that currency, highest priority first: ``first_deposit``
   ones only on the player's first deposit (no earlier deposit transaction), ``deposit`` ones on every deposit.
   The first one the award's checks accept is awarded (source ``deposit``, reference ``deposit-<transaction>``).

A refusal (not eligible, self-excluded, below the minimum deposit, budget, another bonus active, a jurisdiction's
rule ...) is an ordinary answer: logged at info, never raised (a raise would hold the player's later events). The
queue row is deleted in the handler's transaction, so what the handler writes happens once; the award's reference
makes a re-delivered deposit answer the bonus it made anyway."""

from __future__ import annotations

import logging

from apps.audit.services import SystemActor
from apps.bonuses import awards
from apps.bonuses.choices import DEPOSIT_TYPES, BonusState, Source, TemplateState, Trigger
from apps.bonuses.errors import (
    BonusAlreadyClaimed,
    BonusBudgetExhausted,
    BonusCodeInvalid,
    BonusExpired,
    BonusNotActive,
    BonusNotEligible,
    BonusNotFound,
    BonusNotPermitted,
    BonusRuleViolation,
    BonusTemplateInvalid,
    BonusTemplateState,
)
from apps.bonuses.models import BonusTemplate, PlayerBonus
from apps.players.models import Player
from apps.wallet.choices import TransactionType
from apps.wallet.events import PostingEvent, register_consumer

log = logging.getLogger(__name__)

CONSUMER = "bonuses.deposit_trigger"
ACTOR = SystemActor("bonuses.deposit_trigger")
REFUSALS = (
    BonusAlreadyClaimed,
    BonusBudgetExhausted,
    BonusCodeInvalid,
    BonusExpired,
    BonusNotActive,
    BonusNotEligible,
    BonusNotFound,
    BonusNotPermitted,
    BonusRuleViolation,
    BonusTemplateInvalid,
    BonusTemplateState,
)


def source_ref(event: PostingEvent) -> str:
    return f"deposit-{event.transaction_id}"


def first_deposit(event: PostingEvent) -> bool:
    """No deposit of the player before this one (in any currency)."""
    from apps.wallet.models import LedgerTransaction

    return not LedgerTransaction.objects.filter(
        player_id=event.player_id, type=TransactionType.DEPOSIT, id__lt=event.transaction_id
    ).exists()


def _claim_offer(player: Player, event: PostingEvent) -> PlayerBonus | None:
    offers = PlayerBonus.objects.filter(
        player=player,
        state=BonusState.OFFERED,
        currency=event.currency,
        template__type__in=sorted(DEPOSIT_TYPES),
    ).order_by("offered_at", "pk")
    for offer_id in offers.values_list("pk", flat=True):
        try:
            return awards.bonus_claim(actor=ACTOR, player=player, offer_id=offer_id, deposit_amount=event.amount)
        except REFUSALS as exc:
            log.info("deposit %s: offer %s not claimed: %s %s", event.transaction_id, offer_id, exc.code, exc.fields)
    return None


def _award(player: Player, event: PostingEvent) -> PlayerBonus | None:
    ref = source_ref(event)
    done = PlayerBonus.objects.filter(player=player, source=Source.DEPOSIT, source_ref=ref).first()
    if done is not None:
        return done
    wanted = [Trigger.DEPOSIT]
    if first_deposit(event):
        wanted.append(Trigger.FIRST_DEPOSIT)
    candidates = BonusTemplate.objects.filter(
        state=TemplateState.PUBLISHED,
        trigger__in=wanted,
        type__in=sorted(DEPOSIT_TYPES),
        currency=event.currency,
    ).order_by("-priority", "code")
    for template in candidates:
        try:
            return awards.bonus_award(
                actor=ACTOR,
                player=player,
                template=template,
                source=Source.DEPOSIT,
                source_ref=ref,
                deposit_amount=event.amount,
            )
        except REFUSALS as exc:
            log.info("deposit %s: %s not awarded: %s %s", event.transaction_id, template.code, exc.code, exc.fields)
    return None


def on_deposit(event: PostingEvent) -> PlayerBonus | None:
    """The bonus this deposit claimed or was awarded, or None."""
    if event.type != TransactionType.DEPOSIT or event.reverses_id is not None or event.amount <= 0:
        return None
    player = Player.objects.filter(pk=event.player_id).first()
    if player is None:
        return None
    return _claim_offer(player, event) or _award(player, event)


def handle(events: list[PostingEvent]) -> None:
    for event in events:
        on_deposit(event)


def register() -> None:
    register_consumer(CONSUMER, handle, types=[TransactionType.DEPOSIT])
