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

Two sources, the same figures. ``source=ledger`` (the default) aggregates the raw transactions in one statement: the
BRIN index on ``created_at`` bounds the scan to the period, widened to hold every clock's local days; each row's
local day is found among its player's clock's midnights (converted once per day, not per row); the rows are grouped
with one sum and one count per type, and the figures, rows and totals (grouping sets), are computed from those
groups. On a 10,000,000-entry quarter that is about 2.5 times faster than converting every row to its clock three
times, and still several times a bare ``sum(amount) GROUP BY type`` over the same rows (bench/reports.py,
docs/PERFORMANCE.md "reports"): long periods read the rollups.
``source=rollups`` reads ``reports_operator_day`` instead (kept from the posting events): what long periods should
use. A test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from apps.reports.context import RunContext
from apps.reports.definitions.common import (
    brand_check,
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

# The ledger source, in two steps. First the period's transactions grouped by local day and the row's keys, with a
# plain sum and count per type (the per-row work of a bare aggregate: no FILTER per figure, no grouping sets, so
# PostgreSQL may share the rows among parallel workers); then the figures from those few thousand groups, as
# ROLLUPS_SQL computes them from the rollup rows.
#
# The local day without a time-zone conversion per row (``AT TIME ZONE`` on a zone's name costs 0.7 µs a row on the
# benchmark machine, more than reading the row). CLOCKS_SQL gives, per jurisdiction with rule packs, the UTC instants
# of its local midnights from the period's first day to the day after its last (one conversion per day); ``_clocks``
# lays them end to end in one sorted array, the UTC clock's first and each jurisdiction's shifted ``SHIFT`` further on
# than the one before (a time-only interval: adding it is one addition), and a transaction's day is its place in that
# array (``width_bucket``, a binary search: 0.15 µs). Before the jurisdiction's first rule pack (``since``) and for a
# country without one, the clock is UTC, as ``common.zone_sql`` says. A clock whose midnights do not start its days
# (PostgreSQL reads an ambiguous local midnight as its second occurrence) is not ``exact``: its rows take the
# conversion. The period's bounds are each clock's first and last midnights. Each player's place (jurisdiction and
# clock) is worked out once per player in ``placed`` (OFFSET 0 keeps PostgreSQL from copying those expressions into
# the per-transaction part of the plan) and reaches the transactions through one hash join.
SHIFT = timedelta(days=1000)  # more than any period's UTC window

CLOCKS_SQL = """
    WITH jur AS (
        SELECT j.code, coalesce(nullif(j.time_zone, ''), 'UTC') AS time_zone, min(rp.effective_from) AS since
        FROM geo_jurisdiction j JOIN geo_rulepack rp ON rp.jurisdiction_id = j.id
        GROUP BY j.code, j.time_zone
    ),
    midnights AS (
        SELECT jur.code, jur.time_zone, jur.since, d::date AS day, d::date::timestamp AT TIME ZONE jur.time_zone AS at
        FROM jur CROSS JOIN generate_series(%s::date, %s::date + 1, interval '1 day') d
    )
    SELECT code, time_zone, since, array_agg(at ORDER BY day),
           bool_and((at AT TIME ZONE time_zone)::date = day
                    AND ((at - interval '1 microsecond') AT TIME ZONE time_zone)::date = day - 1)
    FROM midnights GROUP BY code, time_zone, since ORDER BY code
"""

LEDGER_SQL = f"""
    WITH placed AS (
        SELECT player_id, brand_id, jurisdiction, coalesce((%(sinces)s::timestamptz[])[k], 'infinity') AS since,
               (%(zones)s::text[])[k] AS zone, (%(exact)s::boolean[])[k] AS exact,
               (%(shifts)s::interval[])[k] AS shift, (%(bases)s::int[])[k] AS base,
               (%(opens)s::timestamptz[])[k] AS opens, (%(closes)s::timestamptz[])[k] AS closes
        FROM (
            SELECT p.id AS player_id, p.brand_id, j.jurisdiction, array_position(%(codes)s::text[], j.jurisdiction) AS k
            FROM players_player p
            CROSS JOIN LATERAL (
                SELECT CASE WHEN p.region <> '' AND p.region = ANY(%(codes)s::text[]) THEN p.region
                            ELSE p.country END AS jurisdiction
            ) j
        ) pl
        OFFSET 0
    ),
    grouped AS (
        SELECT CASE WHEN t.created_at < pl.since
                    THEN %(start)s::date + width_bucket(t.created_at, %(midnights)s::timestamptz[]) - 1
                    WHEN pl.exact
                    THEN %(start)s::date + width_bucket(t.created_at + pl.shift, %(midnights)s::timestamptz[]) - pl.base
                    ELSE (t.created_at AT TIME ZONE pl.zone)::date END AS day,
               pl.jurisdiction, t.currency, t.game_category, t.provider, t.type,
               sum(t.amount) AS amount, count(*) AS "count"
        FROM wallet_transaction t JOIN placed pl ON pl.player_id = t.player_id
        WHERE t.created_at >= %(lo)s AND t.created_at < %(hi)s AND t.type IN ({IN_TYPES})
          AND CASE WHEN t.created_at < pl.since THEN t.created_at >= %(utc_opens)s AND t.created_at < %(utc_closes)s
                   WHEN pl.exact THEN t.created_at >= pl.opens AND t.created_at < pl.closes
                   ELSE (t.created_at AT TIME ZONE pl.zone)::date BETWEEN %(start)s AND %(end)s END
          AND (%(jurisdiction)s::text IS NULL OR pl.jurisdiction = %(jurisdiction)s)
          AND (%(currency)s::text IS NULL OR t.currency = %(currency)s)
          AND (%(brand)s::text IS NULL OR pl.brand_id = (SELECT id FROM players_brand WHERE code = %(brand)s))
        GROUP BY 1, 2, 3, 4, 5, 6
    )
    SELECT grouping(day), day, jurisdiction, currency, game_category, provider, {_aggregates('"count"', "amount")}
    FROM grouped
    {_GROUPING}
"""  # noqa: S608 (only constants are formatted in)


def _clocks(ctx: RunContext, start: date, end: date) -> dict[str, Any]:
    """LEDGER_SQL's clock parameters for the local days ``start`` to ``end``: per jurisdiction its zone, ``since``,
    whether its midnights are exact, its shift, its first position in ``midnights`` and its period's bounds; and the
    midnights of every exact clock end to end, the UTC clock's first (sorted: what ``width_bucket`` needs)."""
    utc = [datetime.combine(start + timedelta(days=n), time(0, 0), tzinfo=UTC) for n in range((end - start).days + 2)]
    midnights = list(utc)
    columns: dict[str, list[Any]] = {
        key: [] for key in ("codes", "zones", "sinces", "exact", "shifts", "bases", "opens", "closes")
    }
    for k, (code, zone, since, instants, exact) in enumerate(ctx.all(CLOCKS_SQL, [start, end]), 1):
        shift = SHIFT * k
        row = (code, zone, since, exact, shift, len(midnights) + 1, instants[0], instants[-1])
        for key, value in zip(columns, row, strict=True):
            columns[key].append(value)
        if exact:
            midnights += [instant + shift for instant in instants]
    return {**columns, "midnights": midnights, "utc_opens": utc[0], "utc_closes": utc[-1]}


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
            names = {name: params.get(name) for name in ("jurisdiction", "currency", "brand")}
            values = {"start": start, "end": end, "lo": lo, "hi": hi, **names, **_clocks(ctx, start, end)}
            with ctx.cursor() as cursor:
                cursor.execute(LEDGER_SQL, values)
                rows = list(cursor.fetchall())
        by_day = [tuple(row[1:]) for row in rows if row[0] == 0]
        totals = [(row[3], *row[6:]) for row in rows if row[0] == 1]
        ctx.progress(1, 2)
        yield Table("by_day", "GGR and NGR by day", BY_DAY_COLUMNS, by_day)
        ctx.progress(2, 2)
        yield Table("totals", "Totals per currency", TOTAL_COLUMNS, totals)


TYPES = (DailyGgr,)
