"""Free spins: the game platform plays a free-spins bonus's spins and posts each result as a win carrying the bonus
id (``POST /api/v1/wallet/transactions/`` with ``bonus_id``; docs/BONUSES.md, "Free spins").

The award posts nothing (the bonus is worth 0 until a spin wins) and sets ``spins_left`` to the template's count.
Each result, in the win posting's transaction (the wallet calls ``check`` under the player's account lock, before
its write, then the continuation after it: apps/wallet/free_spins.py):

- refused unless the bonus is this player's (else ``bonus_not_found``, as if it did not exist), a free-spins bonus,
  active (not ended, claimed, not voided and within its time to wager), in the posting's currency, for one of the
  template's games, with at least ``spins`` spins left;
- the win (credited by the wallet wholly to the bonus account) grows the bonus's ``amount`` and its
  ``wagering_required`` by the win times the template's multiplier (the bonus part of the wagering base; a
  deposit's part, when the base counts one, was counted at the award), ``spins_left`` goes down by ``spins``, and a
  ``FreeSpinResult`` row records which ledger win it was;
- the last spin is audited (``bonuses.spins_played``); when nothing is left to wager then (always when the spins
  won nothing: the requirement is 0), the bonus completes at once (``bonus_complete``: the balance, 0 or more,
  converted up to the maximum conversion), as an award without wagering does. Otherwise it stays active and
  normal bets wager the winnings: the wagering observer never marks a bonus met while it has spins left.

A rollback of a free-spin win gives the spins and the requirement back (an active bonus only: an ended bonus's
wins are settled, ``bonus_not_active``). Each result is not audited on its own (the ledger and the result rows
are its record, as postings do not write the audit chain); the state changes are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.bonuses.choices import BonusState, BonusType
from apps.bonuses.errors import (
    BonusGameNotIncluded,
    BonusNotActive,
    BonusNotFound,
    BonusNotFreeSpins,
    BonusSpinsExhausted,
)
from apps.bonuses.models import FreeSpinResult, PlayerBonus
from apps.core.money import quantize
from apps.wallet.errors import CurrencyMismatch
from apps.wallet.free_spins import FreeSpinWin
from apps.wallet.models import LedgerTransaction

ZERO = Decimal("0")
FOUR_PLACES = Decimal("0.0001")


def _locked(bonus_id: int, player_id: int) -> PlayerBonus | None:
    return (
        PlayerBonus.objects.select_for_update(of=("self",))
        .select_related("template")
        .filter(pk=bonus_id, player_id=player_id)
        .first()
    )


def _refuse_unless_playable(bonus: PlayerBonus, now: datetime) -> None:
    if bonus.template.type != BonusType.FREE_SPINS:
        raise BonusNotFreeSpins(
            f"The bonus is a {bonus.template.get_type_display().lower()} bonus, not free spins.",
            fields={"bonus_id": ["Not a free-spins bonus."]},
        )
    if bonus.state != BonusState.ACTIVE:
        raise BonusNotActive(f"The bonus is {bonus.get_state_display().lower()}.", fields={"state": bonus.state})
    if bonus.voided_at is not None:
        raise BonusNotActive("A bet above the maximum voided the bonus.", fields={"state": "voided"})
    if bonus.wager_by is not None and bonus.wager_by <= now:
        raise BonusNotActive("The bonus's time is over.", fields={"state": "expired", "wager_by": str(bonus.wager_by)})


def _requirement(bonus: PlayerBonus, amount: Decimal) -> Decimal:
    return (amount * bonus.template.wagering_multiplier).quantize(FOUR_PLACES)


def as_dict(bonus: PlayerBonus) -> dict[str, Any]:
    """What the posting's answer shows of the bonus (``bonus`` in the API's response)."""
    return {
        "id": bonus.pk,
        "state": bonus.state,
        "spins_left": bonus.spins_left or 0,
        "amount": str(quantize(bonus.amount, bonus.currency)),
        "currency": bonus.currency,
        "wagering_required": str(bonus.wagering_required.quantize(FOUR_PLACES)),
        "wagered": str(bonus.wagered.quantize(FOUR_PLACES)),
    }


def check(win: FreeSpinWin) -> Callable[[LedgerTransaction], dict[str, Any]]:
    """Before the win is written: lock the bonus and refuse what cannot be played; answer the continuation."""
    now = timezone.now()
    bonus = _locked(win.bonus_id, win.player_id)
    if bonus is None:  # another player's bonus is the same answer as none: nothing about it is told
        raise BonusNotFound("No such bonus of this player.", fields={"bonus_id": ["Unknown bonus."]})
    _refuse_unless_playable(bonus, now)
    if bonus.currency != win.currency:
        raise CurrencyMismatch(
            f"The bonus is in {bonus.currency}.", fields={"currency": [f"Must be {bonus.currency}."]}
        )
    games = list(bonus.template.games)
    if games and win.game_id not in games:
        raise BonusGameNotIncluded(
            "The bonus's spins are not for this game.", fields={"game_id": [f"One of: {', '.join(games)}."]}
        )
    left = bonus.spins_left or 0
    if win.spins > left:
        raise BonusSpinsExhausted(
            f"The bonus has {left} spins left." if left else "The bonus has no spins left.",
            fields={"spins": [f"{left} left."], "spins_left": left},
        )
    amount = quantize(win.amount, bonus.currency)

    def apply(txn: LedgerTransaction) -> dict[str, Any]:
        bonus.amount += amount
        bonus.wagering_required += _requirement(bonus, amount)
        bonus.spins_left = left - win.spins
        bonus.save(update_fields=["amount", "wagering_required", "spins_left"])
        FreeSpinResult.objects.create(
            bonus=bonus,
            transaction_id=txn.pk,
            spins=win.spins,
            amount=amount,
            round_id=win.round_id,
            game_id=win.game_id,
            created_at=now,
        )
        if bonus.spins_left == 0:
            return as_dict(_last_spin(bonus, now))
        return as_dict(bonus)

    return apply


def _last_spin(bonus: PlayerBonus, now: datetime) -> PlayerBonus:
    from apps.bonuses.awards import _audit, bonus_complete

    totals = bonus.spin_results.values_list("spins", "amount")
    won = sum((a for _, a in totals), ZERO)
    _audit(
        None,
        "spins_played",
        bonus,
        spins=sum(s for s, _ in totals),
        won=str(quantize(won, bonus.currency)),
        wagering_required=str(bonus.wagering_required),
        wagered=str(bonus.wagered),
    )
    if bonus.wagered >= bonus.wagering_required:  # nothing left to wager (nothing won, or bets covered it)
        return bonus_complete(bonus=bonus, now=now)
    return bonus


def reverse(win: LedgerTransaction) -> Callable[[LedgerTransaction], object] | None:
    """Before a win's rollback is written: None unless it was a free-spin result; else refuse an ended bonus, or
    answer the continuation that gives its spins and its requirement back."""
    result = FreeSpinResult.objects.filter(transaction_id=win.pk).first()
    if result is None:
        return None
    bonus = _locked(result.bonus_id, win.player_id)
    if bonus is None:  # pragma: no cover - a result's bonus is the win's player's (the row is append-only)
        raise BonusNotFound("No such bonus of this player.")
    if bonus.state != BonusState.ACTIVE:
        raise BonusNotActive(
            f"The bonus is {bonus.get_state_display().lower()}: its free-spin wins are settled.",
            fields={"state": bonus.state},
        )

    def apply(txn: LedgerTransaction) -> None:
        bonus.amount = max(ZERO, bonus.amount - result.amount)
        bonus.wagering_required = max(ZERO, bonus.wagering_required - _requirement(bonus, result.amount))
        bonus.spins_left = (bonus.spins_left or 0) + result.spins
        bonus.met_at = None  # spins to play again: not met until they are (the observer's rule)
        bonus.save(update_fields=["amount", "wagering_required", "spins_left", "met_at"])
        FreeSpinResult.objects.create(
            bonus=bonus,
            transaction_id=txn.pk,
            reverses_transaction_id=win.pk,
            spins=-result.spins,
            amount=-result.amount,
            round_id=result.round_id,
            game_id=result.game_id,
        )

    return apply


def register() -> None:
    from apps.wallet.free_spins import register_free_spin_hook

    register_free_spin_hook(check, reverse=reverse)
