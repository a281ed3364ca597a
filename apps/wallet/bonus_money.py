"""Bonus money: awarded, converted to cash once wagering is met, forfeited (the bonuses issue decides when; these
move it through the ledger like every other posting)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from apps.core.money import quantize
from apps.wallet.choices import AccountKind, TransactionType
from apps.wallet.posting import (
    InsufficientFunds,
    Item,
    PlayerAccounts,
    PlayerRef,
    Posted,
    lock_accounts,
    refuse_unless,
    write,
    write_many,
)


def bonus_award(*, player: PlayerRef | int, amount: Decimal, currency: str, reference: str = "") -> Posted:
    """Bonus funds granted: the operator's bonus cost pays the player's bonus account."""
    accounts = lock_accounts(player, currency)
    refuse_unless(accounts.player_id, "bonus", amount=amount)
    cost = accounts.operator[AccountKind.BONUS_COST]
    return write(
        accounts=accounts,
        type=TransactionType.BONUS_AWARD,
        amount=amount,
        legs=[(cost, -amount), (accounts.bonus_id, amount)],
        player_deltas={accounts.bonus_id: amount},
        reference=reference,
    )


def bonus_award_many(
    *, awards: dict[int, tuple[Decimal, str]], accounts: dict[int, PlayerAccounts]
) -> dict[int, Posted]:
    """``bonus_award`` for many players in one statement: player id -> (amount, reference), their accounts as
    ``posting.lock_many`` locked them. The caller has checked each player's eligibility after the lock (as
    ``bonus_award``'s ``refuse_unless`` does: apps.bonuses.awards.give_many)."""
    items = []
    for player_id, (amount, reference) in sorted(awards.items()):
        mine = accounts[player_id]
        cost = mine.operator[AccountKind.BONUS_COST]
        items.append(
            Item(
                accounts=mine,
                amount=amount,
                legs=[(cost, -amount), (mine.bonus_id, amount)],
                player_deltas={mine.bonus_id: amount},
                fields={"reference": reference},
            )
        )
    return write_many(type=TransactionType.BONUS_AWARD, items=items)


def bonus_convert(*, player: PlayerRef | int, amount: Decimal, currency: str, reference: str = "") -> Posted:
    """Wagering met: bonus funds become withdrawable cash (up to the bonus balance)."""
    accounts = lock_accounts(player, currency)
    if amount > accounts.bonus:
        raise InsufficientFunds(fields={"amount": [f"Bonus balance: {quantize(accounts.bonus, currency)}."]})
    return write(
        accounts=accounts,
        type=TransactionType.BONUS_CONVERT,
        amount=amount,
        legs=[(accounts.bonus_id, -amount), (accounts.cash_id, amount)],
        player_deltas={accounts.bonus_id: -amount, accounts.cash_id: amount},
        reference=reference,
    )


def bonus_forfeit(
    *, player: PlayerRef | int, currency: str, amount: Decimal | None = None, reference: str = ""
) -> Posted:
    """Bonus expired or cancelled: the funds (all of the bonus balance unless ``amount``) go back to bonus cost."""
    accounts = lock_accounts(player, currency)
    amount = accounts.bonus if amount is None else min(amount, accounts.bonus)
    cost = accounts.operator[AccountKind.BONUS_COST]
    return write(
        accounts=accounts,
        type=TransactionType.BONUS_FORFEIT,
        amount=amount,
        legs=[(accounts.bonus_id, -amount), (cost, amount)],
        player_deltas={accounts.bonus_id: -amount},
        reference=reference,
    )


wallet_bonus_award = transaction.atomic(bonus_award)
wallet_bonus_convert = transaction.atomic(bonus_convert)
wallet_bonus_forfeit = transaction.atomic(bonus_forfeit)
