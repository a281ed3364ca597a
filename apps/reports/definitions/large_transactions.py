"""Large transactions (issue 18): every deposit, withdrawal request and staff adjustment of one currency at or above
a threshold in a period of local days, one row per transaction, in time order (then id), streamed from a
server-side cursor however many there are; a summary per type first.

A withdrawal is listed when it is requested (the money leaves the player's cash then; its payout and a cancellation
are the same money and are not listed again). An adjustment's amount is its size; its direction (``in``: a credit
to the player, ``out``: a debit) is its cash entry's sign. The threshold compares the posting's amount in the
report's currency: the ledger never converts currencies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from apps.reports.context import RunContext
from apps.reports.definitions.common import PLACES_CTE, local_day_sql, money, period_errors, utc_window
from apps.reports.types import Column, Param, ReportType, Table, yesterday

LONGEST_DAYS = 366
TYPES_LISTED = ("deposit", "withdrawal", "adjustment")

_SELECTED = f"""
    WITH {PLACES_CTE}
    SELECT t.created_at, {local_day_sql()} AS day, t.id, t.type, t.player_id, p.external_id, pl.jurisdiction,
           CASE t.type WHEN 'deposit' THEN 'in' WHEN 'withdrawal' THEN 'out' ELSE (
               CASE WHEN (SELECT sum(e.amount) FROM wallet_entry e JOIN wallet_account a ON a.id = e.account_id
                          WHERE e.transaction_id = t.id AND e.created_at = t.created_at AND a.kind = 'cash') > 0
                    THEN 'in' ELSE 'out' END) END AS direction,
           t.amount, t.currency, t.payment_method, t.reference, t.staff_actor
    FROM wallet_transaction t
    JOIN places pl ON pl.player_id = t.player_id
    JOIN players_player p ON p.id = t.player_id
    WHERE t.created_at >= %s AND t.created_at < %s
      AND t.type IN ({", ".join(f"'{t}'" for t in TYPES_LISTED)})
      AND t.currency = %s AND t.amount >= %s
      AND {local_day_sql()} >= %s AND {local_day_sql()} <= %s
"""  # noqa: S608 (only constants are formatted in)
ROWS_SQL = f"{_SELECTED} ORDER BY t.created_at, t.id"
SUMMARY_SQL = f"""
    SELECT s.type, s.direction, count(*), sum(s.amount), max(s.amount), count(DISTINCT s.player_id)
    FROM ({_SELECTED}) s
    GROUP BY s.type, s.direction
    ORDER BY s.type, s.direction
"""  # noqa: S608 (only constants are formatted in)

SUMMARY_COLUMNS = [
    Column("type", "Type"),
    Column("direction", "Direction", help="in: to the player; out: from the player."),
    Column("count", "Transactions", "int"),
    money("total", "Total"),
    money("largest", "Largest"),
    Column("players", "Players", "int"),
    Column("currency", "Currency"),
]
ROW_COLUMNS = [
    Column("created_at", "Time (UTC)"),
    Column("day", "Local day", "date", help="On the player's jurisdiction's clock."),
    Column("transaction", "Transaction", "int"),
    Column("type", "Type", help="deposit, withdrawal (the request) or adjustment (by staff)."),
    Column("player", "Player id", "int"),
    Column("external_id", "Player"),
    Column("jurisdiction", "Jurisdiction"),
    Column("direction", "Direction", help="in: to the player; out: from the player."),
    money("amount", "Amount"),
    Column("currency", "Currency"),
    Column("payment_method", "Payment method"),
    Column("reference", "Reference"),
    Column("staff", "Staff", help="Who requested an adjustment."),
]


class LargeTransactions(ReportType):
    code = "large_transactions"
    title = "Large transactions"
    description = (
        "Deposits, withdrawal requests and adjustments of a currency at or above a threshold in a period, one row "
        "per transaction in time order."
    )
    params = (
        Param("start", "day", "First day", default=yesterday, help="A local day, included."),
        Param("end", "day", "Last day", default=yesterday, help="A local day, included."),
        Param("currency", "currency", "Currency"),
        Param("threshold", "money", "Threshold", help="In the currency: transactions of this amount or more."),
    )
    formats = ("csv", "xlsx", "pdf")
    permission = "reports.run_financial"

    def clean(self, raw: Mapping[str, str], *, today: date) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
        values, texts, errors = super().clean(raw, today=today)
        if not errors:
            errors.update(period_errors(values, longest_days=LONGEST_DAYS))
        return values, texts, errors

    def tables(self, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        start, end = params["start"], params["end"]
        lo, hi = utc_window(start, end)
        selected = [lo, hi, params["currency"], params["threshold"], start, end]
        summary = [(*row, params["currency"]) for row in ctx.all(SUMMARY_SQL, selected)]
        ctx.progress(1, 2)
        yield Table("summary", "Summary by type", SUMMARY_COLUMNS, summary)
        ctx.progress(2, 2)
        yield Table("transactions", "Transactions", ROW_COLUMNS, ctx.stream(ROWS_SQL, selected))


TYPES = (LargeTransactions,)
