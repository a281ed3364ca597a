"""Wagering on every posting, in the posting's own statement (docs/BONUSES.md).

- A bet adds its contribution to the player's active bonus of the currency, and a rollback takes it back: one
  UPDATE that the wallet runs as a CTE of the posting's INSERT (``register_statement_observer``), so no round trip
  and nothing at all when the player has no active bonus (the partial unique index finds none). The contribution
  is the stake times the bonus's frozen percentage for the game category (0 for an excluded game). When the
  requirement is reached the row gets ``met_at``; a bet above the maximum under the "void" policy gets
  ``voided_at``. The beat job (``bonuses_process_due``) converts or forfeits them within seconds.
- A bet above the maximum under the "refuse" policy is refused before it is posted: ``can()``'s check reads the
  active bonus's maximum as a fact of the eligibility query and answers ``bonus_max_bet``.
- A withdrawal request while a bonus is active forfeits it when the bonus's policy says so, in the request's
  transaction (an in-transaction observer of ``withdrawal`` postings); ``withdrawal_preview`` tells the platform
  before it asks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.bonuses.choices import BonusState, EndReason, WithdrawalPolicy
from apps.bonuses.models import PlayerBonus
from apps.wallet.choices import TransactionType
from apps.wallet.events import PostingEvent, StatementPart

WAGERING_TYPES = (TransactionType.BET, TransactionType.ROLLBACK)
ZERO = Decimal("0")

# The contribution of one posting: its stake (negative for a rollback) times the game category's percentage
# (written out twice below: once for the new total, once to see whether it reaches the requirement). A free-spins
# bonus with spins left is never met: its requirement still grows with each spin's win (apps/bonuses/free_spins.py
# decides on the last spin).
_WAGERING_SQL = (
    "UPDATE bonuses_playerbonus b SET "
    "wagered = GREATEST(b.wagered + (%s::numeric * CASE WHEN %s = ANY(b.excluded_games) THEN 0 "
    "ELSE COALESCE((b.contributions ->> %s)::numeric, 0) END / 100), 0), "
    "met_at = CASE WHEN b.met_at IS NULL AND COALESCE(b.spins_left, 0) = 0 "
    "AND b.wagered + (%s::numeric * CASE WHEN %s = ANY(b.excluded_games) "
    "THEN 0 ELSE COALESCE((b.contributions ->> %s)::numeric, 0) END / 100) >= b.wagering_required "
    "THEN now() ELSE b.met_at END, "
    "voided_at = CASE WHEN b.voided_at IS NULL AND %s::numeric > 0 AND b.max_bet_policy = 'void' "
    "AND b.max_bet IS NOT NULL AND %s::numeric > b.max_bet THEN now() ELSE b.voided_at END "
    "FROM t WHERE b.player_id = %s AND b.currency = %s AND b.state = 'active'"
)


def wagering_statement(event: PostingEvent) -> StatementPart | None:
    stake = event.amount if event.type == TransactionType.BET else -event.amount
    part = [stake, event.game_id, event.game_category]
    return _WAGERING_SQL, [*part, *part, stake, event.amount, event.player_id, event.currency]


# --- the maximum bet: a fact and a check of can() -----------------------------------------------------------

MAX_BET_FACT = "bonus_max_bet"
MAX_BET_SQL = (
    "(SELECT b.max_bet FROM bonuses_playerbonus b WHERE b.player_id = p.id AND b.currency = p.currency "
    "AND b.state = 'active' AND b.max_bet_policy = 'refuse')"
)


def check_max_bet(ctx: Any) -> None:
    if ctx.action != "bet" or ctx.amount is None:
        return
    max_bet = ctx.facts.get(MAX_BET_FACT)
    if max_bet is not None and ctx.amount > max_bet:
        ctx.result.deny("bonus_max_bet")
        ctx.result.restrictions["bonus_max_bet"] = {"amount": str(max_bet), "currency": ctx.facts["currency"]}


# --- withdrawals --------------------------------------------------------------------------------------------


def active_bonus(player_id: int, currency: str) -> PlayerBonus | None:
    return (
        PlayerBonus.objects.select_related("template")
        .filter(player_id=player_id, currency=currency, state=BonusState.ACTIVE)
        .first()
    )


def withdrawal_preview(player_id: int, currency: str) -> dict[str, Any] | None:
    """What a withdrawal request would do to the player's bonus now: None when nothing."""
    bonus = active_bonus(player_id, currency)
    if bonus is None:
        return None
    from apps.wallet.posting import lock_accounts

    balance = lock_accounts(player_id, currency).bonus
    forfeits = bonus.withdrawal_policy == WithdrawalPolicy.FORFEIT
    return {
        "bonus": bonus.pk,
        "template": bonus.template.code,
        "consequence": "forfeit" if forfeits else "none",
        "bonus_balance": str(balance),
        "forfeited_amount": str(max(balance, ZERO)) if forfeits else "0",
        "currency": currency,
        "wagering_percent": str(bonus.percent),
    }


def on_withdrawal(event: PostingEvent) -> None:
    """In the withdrawal request's transaction: flag a withdrawal right after a completion, forfeit the active bonus
    when its policy says so."""
    from apps.bonuses.flags import on_withdrawal as flag_withdrawal

    flag_withdrawal(event.player_id, event.currency)
    bonus = active_bonus(event.player_id, event.currency)
    if bonus is None or bonus.withdrawal_policy != WithdrawalPolicy.FORFEIT:
        return
    from apps.bonuses.awards import bonus_forfeit

    bonus_forfeit(actor=None, bonus=bonus, reason=EndReason.WITHDRAWAL, note=f"withdrawal #{event.transaction_id}")


def register() -> None:
    from apps.players.eligibility import register_check, register_fact
    from apps.wallet.events import register_observer, register_statement_observer

    register_statement_observer(wagering_statement, types=WAGERING_TYPES)
    register_fact(MAX_BET_FACT, MAX_BET_SQL)
    register_check(check_max_bet)
    register_observer(on_withdrawal, types=[TransactionType.WITHDRAWAL])
