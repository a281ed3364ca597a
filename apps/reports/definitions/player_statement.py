"""A player's statement (issue 18): every transaction of one player in a period of local days (their jurisdiction's
clock), for disputes and data-subject requests, with what each moved on the player's cash, bonus and
pending-withdrawal balances and the running balance of each after it; the opening and closing balances of each
account first. Streamed from a server-side cursor: a player with years of play is no problem.

The player is named by their id or by the platform's id for them (``external_id``, e.g. P0000042, which staff see
on the player's page). A text that is both one player's id and another's external id is refused as ambiguous rather
than guessed: a statement sent to the wrong person is a data breach.

Balances are the entries' (opening: every entry before the period; then each transaction's moves in time order,
id order within a moment), so a statement of any period reads what the ledger says, whatever the balance columns
hold. The statement shows what the player's money did: no staff names or reasons (those are the operator's
records, not the player's)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from apps.reports.context import RunContext
from apps.reports.definitions.common import ONE_PLAYER_PLACES_CTE, local_day_sql, money, period_errors, utc_window
from apps.reports.errors import ReportParamsInvalid
from apps.reports.types import Column, Param, ReportType, Table, yesterday

KINDS = ("cash", "bonus", "pending_withdrawal")

# The player's accounts with their balance before the period (its entries of earlier local days), credits and
# debits in it and the balance at its end. Parameters: the player, start, start, end, start, end, end, the window's
# end, the player.
ACCOUNTS_SQL = f"""
    WITH {ONE_PLAYER_PLACES_CTE}
    SELECT a.currency, a.kind,
           coalesce(sum(e.amount) FILTER (WHERE {local_day_sql("e.created_at")} < %s), 0) AS opening,
           coalesce(sum(e.amount) FILTER (WHERE e.amount > 0 AND {local_day_sql("e.created_at")} BETWEEN %s AND %s),
                    0) AS credits,
           coalesce(-sum(e.amount) FILTER (WHERE e.amount < 0 AND {local_day_sql("e.created_at")} BETWEEN %s AND %s),
                    0) AS debits,
           coalesce(sum(e.amount) FILTER (WHERE {local_day_sql("e.created_at")} <= %s), 0) AS closing
    FROM wallet_account a
    JOIN places pl ON pl.player_id = a.player_id
    LEFT JOIN wallet_entry e ON e.account_id = a.id AND e.created_at < %s
    WHERE a.player_id = %s
    GROUP BY a.currency, a.kind
    ORDER BY a.currency COLLATE "C", array_position(ARRAY['cash', 'bonus', 'pending_withdrawal'], a.kind::text)
"""  # noqa: S608 (only constants are formatted in)

# Each transaction of the period with its moves per account kind and the running balances after it. Parameters:
# the player, start, the player twice, the UTC window, start, end.
TRANSACTIONS_SQL = f"""
    WITH {ONE_PLAYER_PLACES_CTE},
    opening AS (
        SELECT a.currency,
               coalesce(sum(e.amount) FILTER (WHERE a.kind = 'cash'), 0) AS cash,
               coalesce(sum(e.amount) FILTER (WHERE a.kind = 'bonus'), 0) AS bonus,
               coalesce(sum(e.amount) FILTER (WHERE a.kind = 'pending_withdrawal'), 0) AS pending
        FROM wallet_account a
        JOIN places pl ON pl.player_id = a.player_id
        LEFT JOIN wallet_entry e ON e.account_id = a.id AND {local_day_sql("e.created_at")} < %s
        WHERE a.player_id = %s
        GROUP BY a.currency
    ),
    moves AS (
        SELECT t.id, t.created_at, {local_day_sql()} AS day, t.type, t.currency, t.amount, t.reference, t.round_id,
               t.game_category, t.game_id, t.provider, t.payment_method,
               coalesce(sum(e.amount) FILTER (WHERE a.kind = 'cash'), 0) AS cash,
               coalesce(sum(e.amount) FILTER (WHERE a.kind = 'bonus'), 0) AS bonus,
               coalesce(sum(e.amount) FILTER (WHERE a.kind = 'pending_withdrawal'), 0) AS pending
        FROM wallet_transaction t
        JOIN places pl ON pl.player_id = t.player_id
        LEFT JOIN wallet_entry e ON e.transaction_id = t.id AND e.created_at = t.created_at
        LEFT JOIN wallet_account a ON a.id = e.account_id AND a.player_id = t.player_id
        WHERE t.player_id = %s AND t.created_at >= %s AND t.created_at < %s
          AND {local_day_sql()} >= %s AND {local_day_sql()} <= %s
        GROUP BY t.id, pl.zone, pl.since
    )
    SELECT m.created_at, m.day, m.id, m.type, m.amount, m.currency, m.cash, m.bonus, m.pending,
           coalesce(o.cash, 0) + sum(m.cash) OVER w, coalesce(o.bonus, 0) + sum(m.bonus) OVER w,
           coalesce(o.pending, 0) + sum(m.pending) OVER w,
           m.reference, m.round_id, m.game_category, m.game_id, m.provider, m.payment_method
    FROM moves m LEFT JOIN opening o ON o.currency = m.currency
    WINDOW w AS (PARTITION BY m.currency ORDER BY m.created_at, m.id ROWS UNBOUNDED PRECEDING)
    ORDER BY m.created_at, m.id
"""  # noqa: S608 (only constants are formatted in)

ACCOUNT_COLUMNS = [
    Column("currency", "Currency"),
    Column("kind", "Account", help="cash, bonus or pending_withdrawal (requested, not yet paid or given back)."),
    money("opening", "Opening balance", "At the start of the period's first local day."),
    money("credits", "Credits"),
    money("debits", "Debits"),
    money("closing", "Closing balance", "At the end of the period's last local day."),
]
TRANSACTION_COLUMNS = [
    Column("created_at", "Time (UTC)"),
    Column("day", "Local day", "date"),
    Column("transaction", "Transaction", "int"),
    Column("type", "Type"),
    money("amount", "Amount", "The transaction's amount (a rollback's: the bet or win it reverses)."),
    Column("currency", "Currency"),
    money("cash", "Cash moved", "Signed: positive credits the player's cash."),
    money("bonus", "Bonus moved", "Signed."),
    money("pending", "Pending withdrawal moved", "Signed."),
    money("cash_balance", "Cash balance", "After the transaction."),
    money("bonus_balance", "Bonus balance", "After the transaction."),
    money("pending_balance", "Pending withdrawal balance", "After the transaction."),
    Column("reference", "Reference"),
    Column("round", "Round"),
    Column("game_category", "Game category"),
    Column("game", "Game"),
    Column("provider", "Provider"),
    Column("payment_method", "Payment method"),
]


def resolve_player(ctx: RunContext, text: str) -> tuple[int | None, str]:
    """(player id, "") or (None, why not): ``text`` is a player's id or external id, and names one player."""
    if text.isdigit() and len(text) <= 18:
        rows = ctx.all("SELECT id FROM players_player WHERE external_id = %s OR id = %s", [text, int(text)])
    else:
        rows = ctx.all("SELECT id FROM players_player WHERE external_id = %s", [text])
    if not rows:
        return None, f"No player with the id or external id {text!r}."
    if len(rows) > 1:
        return None, f"{text!r} is the id of one player and the external id of another: give the other's id."
    return int(rows[0][0]), ""


class PlayerStatement(ReportType):
    code = "player_statement"
    title = "Player statement"
    description = (
        "Every transaction of one player in a period, with what each moved and the running balances of the "
        "player's cash, bonus and pending-withdrawal accounts."
    )
    params = (
        Param("player", "player", "Player", help="The player's id or external id (e.g. P0000042)."),
        Param("start", "day", "First day", help="A local day on the player's clock, included."),
        Param("end", "day", "Last day", default=yesterday, help="A local day, included."),
    )
    formats = ("csv", "xlsx", "pdf")
    permission = "reports.run_player_statement"

    def clean(self, raw: Mapping[str, str], *, today: date) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
        values, texts, errors = super().clean(raw, today=today)
        if not errors:
            errors.update(period_errors(values))
        return values, texts, errors

    def check(self, params: dict[str, Any], user: Any | None) -> dict[str, str]:
        _player, why = resolve_player(RunContext(), params["player"])
        return {"player": why} if why else {}

    def tables(self, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        player, why = resolve_player(ctx, params["player"])
        if player is None:
            raise ReportParamsInvalid(why, fields={"player": why})
        start, end = params["start"], params["end"]
        lo, hi = utc_window(start, end)
        accounts = ctx.all(ACCOUNTS_SQL, [player, start, start, end, start, end, end, hi, player])
        ctx.progress(1, 2)
        yield Table("accounts", "Balances", ACCOUNT_COLUMNS, accounts)
        ctx.progress(2, 2)
        rows = ctx.stream(TRANSACTIONS_SQL, [player, start, player, player, lo, hi, start, end])
        yield Table("transactions", "Transactions", TRANSACTION_COLUMNS, rows)


TYPES = (PlayerStatement,)
