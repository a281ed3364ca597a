"""Rollbacks: a bet (or a win) reversed by the reference its client posted it with. A posting like the others
(``posting.write``), under the player's account lock; refused before anything is written."""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction

from apps.core.errors import ValidationFailed
from apps.players.models import Player
from apps.wallet import free_spins
from apps.wallet.choices import TransactionType
from apps.wallet.errors import AlreadyRolledBack, RoundSettled, UnknownBet, UnknownWin
from apps.wallet.models import LedgerTransaction
from apps.wallet.posting import (
    REVERSIBLE,
    InsufficientFunds,
    PlayerRef,
    Posted,
    _player_not_found,
    lock_accounts,
    write,
)


def rollback(
    *,
    player: PlayerRef,
    bet_reference: str,
    api_client: str,
    reference: str = "",
    of_type: str = TransactionType.BET,
    brand_ids: Collection[int] | None = None,
) -> Posted:
    """Reverse a bet (or, with ``of_type="win"``, a win) by the reference this client posted it with: the money
    goes back where it came from. A bet whose round already has a win is settled: 409 ``round_settled`` until
    the win is rolled back first (the win was computed from the stake)."""
    if of_type not in REVERSIBLE:
        raise ValidationFailed("Only a bet or a win can be rolled back.", fields={"rollback_type": ["bet or win"]})
    if isinstance(player, Player):
        found = LedgerTransaction.objects.filter(player=player)
    else:
        found = LedgerTransaction.objects.filter(player__external_id=player)
        if brand_ids is not None:
            found = found.filter(player__brand_id__in=brand_ids)
    original = found.filter(api_client=api_client, reference=bet_reference, type=of_type).first()
    if original is None:
        if not isinstance(player, Player):
            players = Player.objects.filter(external_id=player)
            if not (players.filter(brand_id__in=brand_ids) if brand_ids is not None else players).exists():
                raise _player_not_found()
        if of_type == TransactionType.WIN:
            raise UnknownWin("No win with this reference.", fields={"rollback_of": ["Unknown win."]})
        raise UnknownBet("No bet with this reference.", fields={"rollback_of": ["Unknown bet."]})
    accounts = lock_accounts(original.player_id, original.currency)
    if LedgerTransaction.objects.filter(reverses=original).exists():
        raise AlreadyRolledBack(f"This {of_type} is already rolled back.")
    if of_type == TransactionType.BET and original.round_id and _round_has_win(original, api_client):
        raise RoundSettled(
            "The round of this bet already has a win: roll the win back first.",
            fields={"rollback_of": ["The round is settled."]},
        )
    # a free-spin result: the bonus engine refuses here, or gives its spins back once written (wallet/free_spins.py)
    then = free_spins.reversal_of(original) if of_type == TransactionType.WIN else None
    legs = [(e.account_id, -e.amount) for e in original.entries.all()]
    deltas = {account_id: value for account_id, value in legs if account_id in (accounts.cash_id, accounts.bonus_id)}
    after = accounts.after(deltas)
    if after["cash"] < 0 or after["bonus"] < 0:  # a win already spent or withdrawn
        raise InsufficientFunds(fields={"rollback_of": ["The player's balance no longer covers this win."]})
    posted = write(
        accounts=accounts,
        type=REVERSIBLE[of_type],
        amount=original.amount,
        legs=legs,
        player_deltas=deltas,
        reverses=original,
        round_id=original.round_id,
        game_id=original.game_id,
        game_category=original.game_category,
        provider=original.provider,
        api_client=api_client,
        reference=reference,
    )
    if then is not None:
        free_spins.after_reversal(then, posted.transaction)
    return posted


def _round_has_win(bet: LedgerTransaction, api_client: str) -> bool:
    """A win of this client in the bet's round that is not itself rolled back (the round index serves it)."""
    return LedgerTransaction.objects.filter(
        player_id=bet.player_id,
        round_id=bet.round_id,
        api_client=api_client,
        type=TransactionType.WIN,
        reversed_by__isnull=True,
    ).exists()


wallet_rollback = transaction.atomic(rollback)
