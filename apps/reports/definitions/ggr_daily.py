"""Daily GGR and NGR by local day, jurisdiction, currency, game category and provider (issue 18; DESIGN §4).

Figures, each per row and per currency in the totals (money is never added across currencies):

* **stakes**: the bets posted on the day, cash and bonus money alike (the whole stake; ``bets`` counts them).
* **voided stakes**: the bets rolled back on the day (``voids`` counts them). A rollback counts on the day it is
  posted, as the ledger and both rollup tables record it, so a closed day's figures never change afterwards; over
  any period that holds both the bet and its rollback the voided bet is excluded entirely.
* **wins**, **win rollbacks**: the wins posted and rolled back on the day (a free spin's winnings are wins).
* **GGR** = (stakes - voided stakes) - (wins - win rollbacks).
* **bonus cost** = bonus awards - bonus forfeits posted on the day: the net debit of the operator's ``bonus_cost``
  account, as apps/bonuses/stats.py defines it (the converted cash, the bonus money staked and lost, and what is
  still on open bonus balances). Bonus postings belong to no game: their cost is on the rows with an empty game
  category and provider.
* **NGR** = GGR - bonus cost.

Two sources, the same figures. ``source=ledger`` (the default) aggregates the raw transactions in one grouped
statement (rows and totals together, by grouping sets): the BRIN index on ``created_at`` bounds the scan to the
period, widened to hold every clock's local days, and each row's local day is then taken on its player's clock.
``source=rollups`` reads ``reports_operator_day`` instead (kept from the posting events): what long periods should
use. A test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from apps.reports.context import RunContext
from apps.reports.definitions.common import (
    PLACES_CTE,
    brand_check,
    local_day_sql,
    money,
    period_errors,
    set_work_mem,
    utc_window,
)
from apps.reports.types import Column, Param, ReportType, Table, yesterday

LEDGER_LONGEST_DAYS = 92  # a quarter: longer periods read the rollups

# (key, label, transaction type, what): "count" the postings, "amount" their headline amounts.
FLOWS = (
    ("bets", "Bets", "bet", "count"),
    ("stakes", "Stakes", "bet", "amount"),
    ("voids", "Voided bets", "rollback", "count"),
    ("voided_stakes", "Voided stakes", "rollback", "amount"),
    ("wins", "Wins", "win", "amount"),
    ("win_rollbacks", "Win rollbacks", "win_rollback", "amount"),
    ("bonus_awarded", "Bonus awarded", "bonus_award", "amount"),
    ("bonus_forfeited", "Bonus forfeited", "bonus_forfeit", "amount"),
)
POSTING_TYPES = ("bet", "rollback", "win", "win_rollback", "bonus_award", "bonus_forfeit")
IN_TYPES = ", ".join(f"'{t}'" for t in POSTING_TYPES)
KEYS = ("day", "jurisdiction", "currency", "game_category", "provider")

HELP = {
    "bets": "Bets posted on the day.",
    "stakes": "Bets posted on the day: the whole stake, cash and bonus money.",
    "voids": "Bets rolled back (voided) on the day, whatever day they were placed.",
    "voided_stakes": "The stakes of the bets rolled back on the day.",
    "wins": "Wins posted on the day, to cash and to bonus balances (free-spin winnings included).",
    "win_rollbacks": "Wins rolled back on the day.",
    "ggr": "(Stakes - voided stakes) - (wins - win rollbacks).",
    "bonus_cost": "Bonus awards - bonus forfeits posted on the day: the net debit of the operator's bonus cost "
    "account (as the bonus statistics define it). On the rows without a game.",
    "ngr": "GGR - bonus cost.",
}


def _figure_columns() -> list[Column]:
    columns: list[Column] = []
    for key, label, _type, what in FLOWS:
        if key.startswith("bonus_"):
            continue
        columns.append(Column(key, label, "int", help=HELP[key]) if what == "count" else money(key, label, HELP[key]))
    columns += [
        money("ggr", "GGR", HELP["ggr"]),
        money("bonus_cost", "Bonus cost", HELP["bonus_cost"]),
        money("ngr", "NGR", HELP["ngr"]),
    ]
    return columns


BY_DAY_COLUMNS = [
    Column("day", "Day", "date", help="The local day on the player's jurisdiction's clock."),
    Column("jurisdiction", "Jurisdiction", help="The player's jurisdiction (residence)."),
    Column("currency", "Currency"),
    Column("game_category", "Game category"),
    Column("provider", "Provider"),
    *_figure_columns(),
]
TOTAL_COLUMNS = [Column("currency", "Currency"), *_figure_columns()]


def _aggregates(count: str, amount: str) -> str:
    """The figures' select list over rows with a ``type`` column: ``count`` and ``amount`` are what to add up per
    posting (``1``/``amount`` over transactions, ``count``/``amount`` over rollups)."""
    sums = {
        key: f"coalesce(sum({count if what == 'count' else amount}) FILTER (WHERE type = '{type_}'), 0)"
        for key, _label, type_, what in FLOWS
    }
    ggr = f"(({sums['stakes']}) - ({sums['voided_stakes']})) - (({sums['wins']}) - ({sums['win_rollbacks']}))"
    cost = f"({sums['bonus_awarded']}) - ({sums['bonus_forfeited']})"
    return ", ".join(
        [
            f"({sums['bets']})::bigint",
            sums["stakes"],
            f"({sums['voids']})::bigint",
            sums["voided_stakes"],
            sums["wins"],
            sums["win_rollbacks"],
            ggr,
            cost,
            f"({ggr}) - ({cost})",
        ]
    )


_GROUPING = """
    GROUP BY GROUPING SETS ((day, jurisdiction, currency, game_category, provider), (currency))
    ORDER BY grouping(day), day, jurisdiction COLLATE "C", currency COLLATE "C", game_category COLLATE "C",
             provider COLLATE "C"
"""

LEDGER_SQL = f"""
    WITH {PLACES_CTE},
    x AS (
        SELECT {local_day_sql()} AS day, pl.jurisdiction, t.currency, t.game_category,
               t.provider, t.type, t.amount
        FROM wallet_transaction t JOIN places pl ON pl.player_id = t.player_id
        WHERE t.created_at >= %s AND t.created_at < %s AND t.type IN ({IN_TYPES})
          AND (%s::text IS NULL OR pl.jurisdiction = %s)
          AND (%s::text IS NULL OR t.currency = %s)
          AND (%s::text IS NULL OR pl.brand_id = (SELECT id FROM players_brand WHERE code = %s))
    )
    SELECT grouping(day), day, jurisdiction, currency, game_category, provider, {_aggregates("1", "amount")}
    FROM x WHERE day >= %s AND day <= %s
    {_GROUPING}
"""  # noqa: S608 (only constants are formatted in)

ROLLUPS_SQL = f"""
    SELECT grouping(day), day, jurisdiction, currency, game_category, provider, {_aggregates('"count"', "amount")}
    FROM reports_operator_day
    WHERE day >= %s AND day <= %s AND type IN ({IN_TYPES})
      AND (%s::text IS NULL OR jurisdiction = %s)
      AND (%s::text IS NULL OR currency = %s)
      AND (%s::text IS NULL OR brand_id = (SELECT id FROM players_brand WHERE code = %s))
    {_GROUPING}
"""  # noqa: S608 (only constants are formatted in)


def _filters(params: Mapping[str, Any]) -> list[Any]:
    return [params.get(name) for name in ("jurisdiction", "currency", "brand") for _ in range(2)]


class DailyGgr(ReportType):
    code = "ggr_daily"
    title = "Daily GGR and NGR"
    description = (
        "Stakes, voided stakes, wins and win rollbacks, GGR, bonus cost and NGR per local day, jurisdiction, "
        "currency, game category and provider, with totals per currency."
    )
    params = (
        Param("start", "day", "First day", default=yesterday, help="A local day, included."),
        Param("end", "day", "Last day", default=yesterday, help="A local day, included."),
        Param("jurisdiction", "jurisdiction", "Jurisdiction", required=False),
        Param("currency", "currency", "Currency", required=False),
        Param("brand", "brand", "Brand", required=False, help="A brand's code."),
        Param(
            "source",
            "choice",
            "Source",
            default="ledger",
            choices=("ledger", "rollups"),
            help=f"ledger: the raw transactions (at most {LEDGER_LONGEST_DAYS} days); rollups: the operator day "
            "rollups (any period). Both give the same figures.",
        ),
    )
    formats = ("csv", "xlsx", "pdf")
    permission = "reports.run_financial"

    def clean(self, raw: Mapping[str, str], *, today: date) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
        values, texts, errors = super().clean(raw, today=today)
        if not errors:
            ledger = values.get("source") == "ledger"
            longest = LEDGER_LONGEST_DAYS if ledger else None
            errors.update(period_errors(values, longest_days=longest, hint=" from the ledger: use source=rollups"))
        return values, texts, errors

    def check(self, params: dict[str, Any], user: Any | None) -> dict[str, str]:
        return brand_check(params)

    def tables(self, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        set_work_mem(ctx)
        start, end = params["start"], params["end"]
        if params.get("source") == "rollups":
            rows = ctx.all(ROLLUPS_SQL, [start, end, *_filters(params)])
        else:
            lo, hi = utc_window(start, end)
            rows = ctx.all(LEDGER_SQL, [lo, hi, *_filters(params), start, end])
        by_day = [tuple(row[1:]) for row in rows if row[0] == 0]
        totals = [(row[3], *row[6:]) for row in rows if row[0] == 1]
        ctx.progress(1, 2)
        yield Table("by_day", "GGR and NGR by day", BY_DAY_COLUMNS, by_day)
        ctx.progress(2, 2)
        yield Table("totals", "Totals per currency", TOTAL_COLUMNS, totals)


TYPES = (DailyGgr,)
