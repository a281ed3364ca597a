"""Free-spin results: a win the game platform posts with the player bonus whose spins it settles (docs/BONUSES.md,
"Free spins").

The spins cost the player nothing (no bet, no cash stake), so the win is not split by a round's funding: it is
credited wholly to the player's bonus account, from the house like any win, as a ``win`` posting (the rollups
count it as a win and a bonus win). What it does to the bonus (its amount, its wagering requirement, the spins
left, the end of the bonus on the last spin) is the bonus engine's, and the wallet imports no bonus code
(``apps.bonuses`` depends on the wallet, not the other way): the engine registers one hook at start-up
(``register_free_spin_hook``, in its ``AppConfig.ready``). Without a hook a win naming a bonus is refused
(``free_spins_unavailable``), never posted as cash.

Order, in the posting's one transaction: the player's accounts locked (as every posting, first, so the lock order
is the bets' own: accounts, then the bonus row), then the hook checks the bonus and raises every refusal (it
locks the bonus row), then the win is written, then the hook's continuation applies the result with the new
transaction. Every refusal is raised before the write, as the postings promise (the API keeps its idempotency
record in the same transaction without a savepoint); the one found by the write itself, a duplicate reference,
is raised before the continuation, so the bonus is untouched. A continuation that refuses is a bug: it is raised
as a ``RuntimeError`` (a 500, the whole transaction rolled back, the key free to retry), never stored as an answer
beside a written win.

A rollback of such a win (``reversal.rollback`` with ``of_type="win"``) asks the hook's ``reverse`` the same way:
it refuses, or answers a continuation that gives the spins and the requirement back, or None (not a free-spin
win: the rollback is a plain one).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.core.errors import ApplicationError, Conflict, ValidationFailed
from apps.wallet.choices import AccountKind, TransactionType
from apps.wallet.models import LedgerTransaction
from apps.wallet.posting import PlayerRef, Posted, lock_accounts, write

MAX_SPINS = 10_000  # a template's spins_count is at most 10,000 (apps/bonuses/templates.py)


class FreeSpinsUnavailable(Conflict):
    code = "free_spins_unavailable"
    when = "a win names a bonus but no bonus engine takes free-spin results (never posted as cash)"
    default_message = "Free-spin results cannot be posted: no bonus engine takes them."


@dataclass(frozen=True)
class FreeSpinWin:
    """One result the platform posted: ``spins`` spins of the bonus ``bonus_id`` that won ``amount`` in total
    (0 for spins that won nothing). ``player_id`` is the locked player's."""

    bonus_id: int
    player_id: int
    currency: str
    amount: Decimal
    spins: int
    round_id: str
    game_id: str
    game_category: str
    provider: str
    api_client: str
    reference: str


# ``check(win)`` raises the refusals, then answers ``apply(transaction)``, which changes the bonus in the same
# transaction and returns what the answer shows of it (the ``bonus`` of the API's response).
Apply = Callable[[LedgerTransaction], dict[str, Any]]
Check = Callable[[FreeSpinWin], Apply]
# ``reverse(win transaction)``: None (not a free-spin win), or ``apply(rollback transaction)``; refusals raised.
Reverse = Callable[[LedgerTransaction], "Callable[[LedgerTransaction], object] | None"]


@dataclass(frozen=True)
class _Hook:
    check: Check
    reverse: Reverse | None


_hook: _Hook | None = None


def register_free_spin_hook(check: Check, *, reverse: Reverse | None = None) -> None:
    """The bonus engine's hook (one: a second registration replaces the first, as a re-run ``ready`` does)."""
    global _hook
    _hook = _Hook(check=check, reverse=reverse)


def unregister_free_spin_hook() -> None:
    global _hook
    _hook = None


def has_free_spin_hook() -> bool:
    return _hook is not None


@dataclass(frozen=True)
class FreeSpinPosted(Posted):
    bonus: dict[str, Any] = dataclasses.field(default_factory=dict)  # the hook's account of the bonus after it


def _then(apply: Callable[[LedgerTransaction], Any], txn: LedgerTransaction) -> Any:
    try:
        return apply(txn)
    except ApplicationError as exc:  # refusals belong before the write: never store one beside a written posting
        raise RuntimeError(f"the free-spin hook refused after the write ({exc.code}): refuse in check") from exc


def free_spin_win(
    *,
    player: PlayerRef,
    amount: Decimal,
    currency: str,
    round_id: str,
    bonus_id: int,
    spins: int = 1,
    game_id: str = "",
    game_category: str = "",
    provider: str = "",
    api_client: str = "",
    reference: str = "",
    brand_ids: Collection[int] | None = None,
) -> FreeSpinPosted:
    """A free-spin result: ``amount`` (0 or more) credited wholly to the bonus account, from the house; the bonus
    engine's hook checks and updates the bonus in the same transaction. Side effects: the player's accounts and
    the bonus row locked; one ledger transaction (no entries when nothing was won); the bonus changed (and ended
    on its last spin when nothing is left to wager, which may post its conversion)."""
    if isinstance(spins, bool) or not isinstance(spins, int) or not 1 <= spins <= MAX_SPINS:
        raise ValidationFailed("A result covers 1 or more spins.", fields={"spins": [f"1 to {MAX_SPINS}."]})
    if amount < 0:
        raise ValidationFailed("A win is not negative.", fields={"amount": ["0 or more."]})
    hook = _hook
    if hook is None:
        raise FreeSpinsUnavailable(fields={"bonus_id": ["Free-spin results are not taken here."]})
    accounts = lock_accounts(player, currency, brand_ids=brand_ids)
    apply = hook.check(
        FreeSpinWin(
            bonus_id=bonus_id,
            player_id=accounts.player_id,
            currency=currency,
            amount=amount,
            spins=spins,
            round_id=round_id,
            game_id=game_id,
            game_category=game_category,
            provider=provider,
            api_client=api_client,
            reference=reference,
        )
    )
    house = accounts.operator[AccountKind.HOUSE]
    posted = write(
        accounts=accounts,
        type=TransactionType.WIN,
        amount=amount,
        legs=[(house, -amount), (accounts.bonus_id, amount)],
        player_deltas={accounts.bonus_id: amount},
        round_id=round_id,
        game_id=game_id,
        game_category=game_category,
        provider=provider,
        api_client=api_client,
        reference=reference,
    )
    bonus = _then(apply, posted.transaction)
    # the last spin may have completed the bonus (its conversion is a posting of its own): the balances as now
    now = lock_accounts(accounts.player_id, currency)
    balances = {"cash": now.cash, "bonus": now.bonus, "pending_withdrawal": now.pending}
    return FreeSpinPosted(transaction=posted.transaction, balances=balances, bonus=bonus)


def reversal_of(win: LedgerTransaction) -> Callable[[LedgerTransaction], object] | None:
    """For ``reversal.rollback`` of a win, before its write: the hook's refusal, its continuation, or None."""
    hook = _hook
    if hook is None or hook.reverse is None:
        return None
    return hook.reverse(win)


def after_reversal(apply: Callable[[LedgerTransaction], object], txn: LedgerTransaction) -> None:
    _then(apply, txn)


wallet_free_spin_win = transaction.atomic(free_spin_win)
