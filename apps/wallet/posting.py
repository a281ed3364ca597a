"""Postings: every movement of money is one ledger transaction with balanced entries, in one DB transaction.

Side effects of every posting: locks the player's cash/bonus rows of the currency (``FOR UPDATE``, in id order,
so concurrent postings on one player queue rather than deadlock), never locks an operator account, checks
eligibility (``can``) inside the same transaction, inserts the transaction and its entries, moves the player
balances. The ledger rows are the record of the posting (they are append-only in the database); postings do
not also write the audit chain, which would serialise every bet on its lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from apps.core.money import quantize
from apps.players.eligibility import can
from apps.players.models import Player
from apps.wallet.choices import PLAYER_KINDS, AccountKind, TransactionType
from apps.wallet.models import Entry, LedgerTransaction

ZERO = Decimal("0")


class PostingRefused(ApplicationError):
    """Eligibility said no: the code is the first reason, ``fields.reasons`` has them all."""

    status = 403
    code = "not_allowed"


class InsufficientFunds(ApplicationError):
    status = 409
    code = "insufficient_funds"
    default_message = "The player's balance does not cover this amount."


@dataclass(frozen=True)
class PlayerAccounts:
    cash_id: int
    cash: Decimal
    bonus_id: int
    bonus: Decimal
    pending_id: int
    pending: Decimal
    operator: dict[str, int]  # kind -> account id (never locked)


# One round trip: the player's rows locked in id order, and the operator's rows of the currency unlocked.
_ACCOUNTS_SQL = """
    WITH locked AS (
        SELECT id, kind, balance FROM wallet_account
        WHERE player_id = %s AND currency = %s ORDER BY id FOR UPDATE
    )
    SELECT id, kind, balance FROM locked
    UNION ALL
    SELECT id, kind, balance FROM wallet_account WHERE player_id IS NULL AND currency = %s
"""
_CREATE_SQL = """
    INSERT INTO wallet_account (player_id, kind, currency, balance) VALUES
        (%s, 'cash', %s, 0), (%s, 'bonus', %s, 0), (%s, 'pending_withdrawal', %s, 0),
        (NULL, 'house', %s, 0), (NULL, 'payment_clearing', %s, 0), (NULL, 'bonus_cost', %s, 0),
        (NULL, 'adjustments', %s, 0)
    ON CONFLICT DO NOTHING
"""


def lock_player_accounts(player_id: int, currency: str) -> PlayerAccounts:
    """Lock the player's three accounts in this currency (creating them, and the operator's, on first use)."""
    with connection.cursor() as cursor:
        cursor.execute(_ACCOUNTS_SQL, [player_id, currency, currency])
        rows = cursor.fetchall()
        if len(rows) < 7:
            params: list[int | str] = [player_id, currency, player_id, currency, player_id, currency]
            cursor.execute(_CREATE_SQL, [*params, currency, currency, currency, currency])
            cursor.execute(_ACCOUNTS_SQL, [player_id, currency, currency])
            rows = cursor.fetchall()
    player_rows = {kind: (pk, balance) for pk, kind, balance in rows if kind in PLAYER_KINDS}
    return PlayerAccounts(
        cash_id=player_rows["cash"][0],
        cash=player_rows["cash"][1],
        bonus_id=player_rows["bonus"][0],
        bonus=player_rows["bonus"][1],
        pending_id=player_rows["pending_withdrawal"][0],
        pending=player_rows["pending_withdrawal"][1],
        operator={kind: pk for pk, kind, _ in rows if kind not in PLAYER_KINDS},
    )


def refuse_unless(player: Player, action: str, **kwargs: Any) -> None:
    result = can(player, action, **kwargs)
    if not result.allowed:
        raise PostingRefused(
            f"Refused: {', '.join(result.reasons)}.", code=result.reasons[0], fields={"reasons": result.reasons}
        )


def check_currency(player: Player, currency: str) -> None:
    if currency != player.currency:
        raise ValidationFailed(
            f"The player's wallet is in {player.currency}.",
            code="currency_mismatch",
            fields={"currency": [f"Must be {player.currency}."]},
        )


def write(
    *,
    player: Player,
    type: str,
    currency: str,
    amount: Decimal,
    legs: list[tuple[int, Decimal]],
    player_deltas: dict[int, Decimal],
    **fields: Any,
) -> LedgerTransaction:
    now = timezone.now()
    txn = LedgerTransaction.objects.create(
        type=type, player=player, currency=currency, amount=amount, created_at=now, **fields
    )
    Entry.objects.bulk_create(
        Entry(transaction=txn, account_id=account_id, amount=value, currency=currency, created_at=now)
        for account_id, value in legs
        if value != 0
    )
    moves = [(account_id, delta) for account_id, delta in sorted(player_deltas.items()) if delta != 0]
    if moves:
        values = ", ".join(["(%s::bigint, %s::numeric)"] * len(moves))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE wallet_account a SET balance = a.balance + v.delta FROM (VALUES {values}) AS v(id, delta) "  # noqa: S608
                "WHERE a.id = v.id",
                [x for move in moves for x in move],
            )
    return txn


def deposit(
    *,
    player: Player,
    amount: Decimal,
    currency: str,
    api_client: str = "",
    reference: str = "",
    payment_method: str = "",
    instrument_fingerprint: str = "",
) -> LedgerTransaction:
    check_currency(player, currency)
    accounts = lock_player_accounts(player.pk, currency)
    refuse_unless(player, "deposit", amount=amount)
    clearing = accounts.operator[AccountKind.PAYMENT_CLEARING]
    return write(
        player=player,
        type=TransactionType.DEPOSIT,
        currency=currency,
        amount=amount,
        legs=[(clearing, -amount), (accounts.cash_id, amount)],
        player_deltas={accounts.cash_id: amount},
        api_client=api_client,
        reference=reference,
        payment_method=payment_method,
        instrument_fingerprint=instrument_fingerprint,
    )


def bet(
    *,
    player: Player,
    amount: Decimal,
    currency: str,
    round_id: str,
    game_id: str = "",
    game_category: str = "",
    provider: str = "",
    api_client: str = "",
    reference: str = "",
) -> LedgerTransaction:
    """A stake: cash first, then bonus. Refused when eligibility says no (stake caps included)."""
    check_currency(player, currency)
    accounts = lock_player_accounts(player.pk, currency)
    refuse_unless(player, "bet", amount=amount, game_category=game_category or None)
    from_cash = min(amount, accounts.cash)
    from_bonus = amount - from_cash
    if from_bonus > accounts.bonus:
        available = quantize(accounts.cash + accounts.bonus, currency)
        raise InsufficientFunds(fields={"amount": [f"Available: {available} {currency}."]})
    house = accounts.operator[AccountKind.HOUSE]
    return write(
        player=player,
        type=TransactionType.BET,
        currency=currency,
        amount=amount,
        legs=[(accounts.cash_id, -from_cash), (accounts.bonus_id, -from_bonus), (house, amount)],
        player_deltas={accounts.cash_id: -from_cash, accounts.bonus_id: -from_bonus},
        round_id=round_id,
        game_id=game_id,
        game_category=game_category,
        provider=provider,
        api_client=api_client,
        reference=reference,
    )


def _round_funding(
    player_id: int, currency: str, round_id: str, cash_id: int, bonus_id: int
) -> tuple[Decimal, Decimal]:
    """How much cash and bonus the round's bets still at stake took (rolled-back bets excluded)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT coalesce(sum(CASE WHEN e.account_id = %s THEN -e.amount END), 0),
                   coalesce(sum(CASE WHEN e.account_id = %s THEN -e.amount END), 0),
                   count(DISTINCT t.id)
            FROM wallet_transaction t JOIN wallet_entry e ON e.transaction_id = t.id
            WHERE t.player_id = %s AND t.round_id = %s AND t.currency = %s AND t.type = 'bet'
              AND NOT EXISTS (SELECT 1 FROM wallet_transaction r WHERE r.reverses_id = t.id)
            """,
            [cash_id, bonus_id, player_id, round_id, currency],
        )
        cash, bonus, bets = cursor.fetchone()
    if not bets:
        raise NotFound("No bet in this round.", code="unknown_round", fields={"round_id": ["No bet in this round."]})
    return Decimal(cash), Decimal(bonus)


def win(
    *,
    player: Player,
    amount: Decimal,
    currency: str,
    round_id: str,
    game_id: str = "",
    game_category: str = "",
    provider: str = "",
    api_client: str = "",
    reference: str = "",
) -> LedgerTransaction:
    """A win, credited to cash and bonus in the proportion that funded the round's bets."""
    check_currency(player, currency)
    accounts = lock_player_accounts(player.pk, currency)
    staked_cash, staked_bonus = _round_funding(player.pk, currency, round_id, accounts.cash_id, accounts.bonus_id)
    staked = staked_cash + staked_bonus
    to_bonus = quantize(amount * staked_bonus / staked, currency) if staked else ZERO
    to_cash = amount - to_bonus
    house = accounts.operator[AccountKind.HOUSE]
    return write(
        player=player,
        type=TransactionType.WIN,
        currency=currency,
        amount=amount,
        legs=[(house, -amount), (accounts.cash_id, to_cash), (accounts.bonus_id, to_bonus)],
        player_deltas={accounts.cash_id: to_cash, accounts.bonus_id: to_bonus},
        round_id=round_id,
        game_id=game_id,
        game_category=game_category,
        provider=provider,
        api_client=api_client,
        reference=reference,
    )


@transaction.atomic
def wallet_rollback(*, player: Player, bet_reference: str, api_client: str, reference: str = "") -> LedgerTransaction:
    """Reverse a bet (by the reference it was posted with): its stake goes back where it came from."""
    bet = LedgerTransaction.objects.filter(
        player=player, api_client=api_client, reference=bet_reference, type=TransactionType.BET
    ).first()
    if bet is None:
        raise NotFound("No bet with this reference.", code="unknown_bet", fields={"rollback_of": ["Unknown bet."]})
    accounts = lock_player_accounts(player.pk, bet.currency)
    if LedgerTransaction.objects.filter(reverses=bet).exists():
        raise Conflict("This bet is already rolled back.", code="already_rolled_back")
    legs = [(e.account_id, -e.amount) for e in bet.entries.all()]
    deltas = {account_id: value for account_id, value in legs if account_id in (accounts.cash_id, accounts.bonus_id)}
    return write(
        player=player,
        type=TransactionType.ROLLBACK,
        currency=bet.currency,
        amount=bet.amount,
        legs=legs,
        player_deltas=deltas,
        reverses=bet,
        round_id=bet.round_id,
        game_id=bet.game_id,
        game_category=bet.game_category,
        provider=bet.provider,
        api_client=api_client,
        reference=reference,
    )


# The API calls the plain functions inside its own transaction (the idempotency record's); everyone else calls
# these, which open a transaction or a savepoint of their own.
wallet_deposit = transaction.atomic(deposit)
wallet_bet = transaction.atomic(bet)
wallet_win = transaction.atomic(win)


def balances(player_id: int, currency: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kind, balance FROM wallet_account WHERE player_id = %s AND currency = %s", [player_id, currency]
        )
        found = dict(cursor.fetchall())
    cash, bonus = found.get("cash", ZERO), found.get("bonus", ZERO)
    pending = found.get("pending_withdrawal", ZERO)
    return {
        "currency": currency,
        "cash": str(quantize(cash, currency)),
        "bonus": str(quantize(bonus, currency)),
        "pending_withdrawal": str(quantize(pending, currency)),
        "playable": str(quantize(cash + bonus, currency)),
    }
