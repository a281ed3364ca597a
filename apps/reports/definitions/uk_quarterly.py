"""The UK Gambling Commission's quarterly regulatory return for the players of the GB licence (jurisdiction GB),
for a UK quarter (Q1 = April-June), due 28 days after it ends.

Every figure is on the GB clock (Europe/London): a quarter runs from its first day's local midnight to the local
midnight after its last day. Figures, per currency (never added across currencies):

* **GGY by product** = stakes + other income - prizes, from the operator day rollups (``reports_operator_day``,
  jurisdiction GB). Stakes are the bets net of those rolled back, cash and bonus money alike (the bonus-funded
  part is shown beside them); prizes are the wins net of those rolled back. Other income is gambling income that
  is no stake (rake, commission, fees): the ledger records none, so it is 0. Products from the game category:
  slots, table, live and poker are **casino**, sports is **betting**, bingo is **bingo**, lottery is
  **lottery** (the last two are ready for the platform's categories of that name: today a bet must name one of
  the first five). A win posted without a game category cannot be placed in a product: it is shown as
  **unattributed** rather than guessed.
* **Customer funds held** at the end of the quarter's last day: the cash and bonus balances of the GB players'
  accounts as the ledger's entries stood at that instant (pending withdrawals beside them, not in the total), with
  the players holding cash or bonus money. Read from the quarter's month-end close (``apps.reports.closes``: taken
  once the day is over everywhere, a few rows), or, before it is taken, computed the same way from the ledger:
  today's balances less the entries of later local days (balances equal their entries: ``manage.py
  ledger_verify``).
* **Active accounts**: GB players who gambled in the quarter, from the player day rollups (``wallet_player_day``):
  at least one bet that was not rolled back. **New registrations**: GB accounts opened in the quarter's local days.
  Both kept in the quarter's close too, read from it when it is taken.
* **Deposits and withdrawals** from the operator day rollups: deposits; withdrawals requested net of those
  cancelled or rejected; withdrawals paid out.
* **Self-exclusions, time-outs and limit changes** by age band (the age on the event's local day) and gender (as
  the player's profile records it: female, male, other, or not recorded where the player gave none), one count
  column per gender and their total; what each counts: ``protection_sql``.
* **Customer interactions**: the responsible-gambling interactions staff recorded, by channel, and the operator's
  interventions (exclusions and blocks, limits staff set).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from apps.reports import closes
from apps.reports.context import RunContext
from apps.reports.definitions.common import PLACES_CTE, money, utc_window
from apps.reports.definitions.protection_sql import AGE_BANDS, EVENTS_CTE, age_band_sql
from apps.reports.types import Column, Due, Param, Period, ReportType, ScheduleSpec, Table, previous_uk_quarter
from apps.responsible.choices import InteractionChannel

JURISDICTION = "GB"
# the profile's values and the return's columns, in the return's order
GENDERS = (("female", "Female"), ("male", "Male"), ("other", "Other"), ("", "Not recorded"))

# Game category -> UK product. A category not named here (and a win without one) is "unattributed".
PRODUCTS = {
    "slots": "casino",
    "table": "casino",
    "live": "casino",
    "poker": "casino",
    "sports": "betting",
    "bingo": "bingo",
    "lottery": "lottery",
}
PRODUCT_ORDER = ("casino", "betting", "bingo", "lottery")
_PRODUCT_CASE = (
    "CASE game_category "
    + " ".join(f"WHEN '{category}' THEN '{product}'" for category, product in PRODUCTS.items())
    + " ELSE 'unattributed' END"
)
_PRODUCT_VALUES = ", ".join(f"('{product}', {n})" for n, product in enumerate(PRODUCT_ORDER, 1))

GGY_SQL = f"""
    WITH flows AS (
        SELECT currency, {_PRODUCT_CASE} AS product,
               coalesce(sum(amount) FILTER (WHERE type = 'bet'), 0)
                 - coalesce(sum(amount) FILTER (WHERE type = 'rollback'), 0) AS stakes,
               -coalesce(sum(bonus_amount) FILTER (WHERE type IN ('bet', 'rollback')), 0) AS bonus_stakes,
               coalesce(sum(amount) FILTER (WHERE type = 'win'), 0)
                 - coalesce(sum(amount) FILTER (WHERE type = 'win_rollback'), 0) AS prizes
        FROM reports_operator_day
        WHERE jurisdiction = %(jurisdiction)s AND day BETWEEN %(start)s AND %(end)s
          AND type IN ('bet', 'rollback', 'win', 'win_rollback')
        GROUP BY 1, 2
    ),
    products (product, position) AS (VALUES {_PRODUCT_VALUES}),
    grid AS (
        SELECT c.currency, products.product, products.position
        FROM (SELECT DISTINCT currency FROM flows) c CROSS JOIN products
        UNION ALL
        SELECT currency, product, 99 FROM flows WHERE product = 'unattributed'
    )
    SELECT g.product, g.currency, coalesce(f.stakes, 0), coalesce(f.bonus_stakes, 0), 0::numeric,
           coalesce(f.prizes, 0), coalesce(f.stakes, 0) - coalesce(f.prizes, 0)
    FROM grid g LEFT JOIN flows f ON f.currency = g.currency AND f.product = g.product
    ORDER BY g.currency, g.position
"""  # noqa: S608 (constants only)

PAYMENTS_SQL = """
    SELECT currency,
           coalesce(sum(amount) FILTER (WHERE type = 'deposit'), 0),
           coalesce(sum(count) FILTER (WHERE type = 'deposit'), 0),
           coalesce(sum(amount) FILTER (WHERE type = 'withdrawal'), 0)
             - coalesce(sum(amount) FILTER (WHERE type = 'withdrawal_cancel'), 0),
           coalesce(sum(count) FILTER (WHERE type = 'withdrawal'), 0)
             - coalesce(sum(count) FILTER (WHERE type = 'withdrawal_cancel'), 0),
           coalesce(sum(amount) FILTER (WHERE type = 'withdrawal_paid'), 0),
           coalesce(sum(count) FILTER (WHERE type = 'withdrawal_paid'), 0)
    FROM reports_operator_day
    WHERE jurisdiction = %(jurisdiction)s AND day BETWEEN %(start)s AND %(end)s
      AND type IN ('deposit', 'withdrawal', 'withdrawal_cancel', 'withdrawal_paid')
    GROUP BY currency ORDER BY currency
"""

PROTECTION_KINDS = (
    ("self_exclusion", "Self-exclusion"),
    ("time_out", "Time-out"),
    ("limit_set", "Limit set (new)"),
    ("limit_decreased", "Limit decreased"),
    ("limit_increased", "Limit increase asked for"),
    ("limit_removed", "Limit removal asked for"),
)
_KIND_VALUES = ", ".join(f"('{kind}', '{label}', {n})" for n, (kind, label) in enumerate(PROTECTION_KINDS, 1))
_BAND_VALUES = ", ".join(f"('{band}', {n})" for n, band in enumerate(AGE_BANDS))

# Per measure and age band, the count per gender (as the player's profile records it) and in all.
_GENDER_COUNTS = ", ".join(
    f"coalesce(sum(c.n) FILTER (WHERE c.gender = '{value}'), 0)::bigint" for value, _label in GENDERS
)
PROTECTION_SQL = f"""
    WITH {PLACES_CTE}, {EVENTS_CTE},
    kinds (kind, label, position) AS (VALUES {_KIND_VALUES}),
    bands (band, position) AS (VALUES {_BAND_VALUES}),
    counted AS (
        SELECT kind, {age_band_sql("day", "date_of_birth")} AS band, gender, count(*) AS n
        FROM events
        WHERE jurisdiction = %(jurisdiction)s AND day BETWEEN %(start)s AND %(end)s
          AND kind IN (SELECT kind FROM kinds)
        GROUP BY 1, 2, 3
    )
    SELECT k.label, b.band, {_GENDER_COUNTS}, coalesce(sum(c.n), 0)::bigint
    FROM kinds k CROSS JOIN bands b LEFT JOIN counted c ON c.kind = k.kind AND c.band = b.band
    GROUP BY k.label, b.band, k.position, b.position
    HAVING b.band <> 'under 18' OR count(c.n) > 0
    ORDER BY k.position, b.position
"""  # noqa: S608 (constants only)

INTERACTIONS_SQL = f"""
    WITH {PLACES_CTE}, {EVENTS_CTE},
    lines (kind, label, detail, position) AS (
        SELECT 'interaction', 'RG interaction', channel, position
        FROM unnest(%(channels)s::text[]) WITH ORDINALITY AS c (channel, position)
        UNION ALL SELECT 'operator_exclusion', 'Operator exclusion or block', '', 100
        UNION ALL SELECT 'operator_limit', 'Limit set by the operator', '', 101
    ),
    counted AS (
        SELECT kind, CASE WHEN kind = 'interaction' THEN detail ELSE '' END AS detail,
               count(*) AS n, count(DISTINCT player_id) AS players
        FROM events
        WHERE jurisdiction = %(jurisdiction)s AND day BETWEEN %(start)s AND %(end)s
          AND kind IN ('interaction', 'operator_exclusion', 'operator_limit')
        GROUP BY 1, 2
    )
    SELECT l.label, l.detail, coalesce(c.n, 0), coalesce(c.players, 0)
    FROM lines l LEFT JOIN counted c ON c.kind = l.kind AND c.detail = l.detail
    ORDER BY l.position
"""  # noqa: S608 (constants only)

ZONE_SQL = "SELECT coalesce(nullif(time_zone, ''), 'UTC') FROM geo_jurisdiction WHERE code = %s"


class UkQuarterly(ReportType):
    code = "uk_quarterly"
    title = "UK Gambling Commission quarterly return"
    description = (
        "The GB licence's regulatory return for a UK quarter (Q1 = April-June): GGY by product, customer funds "
        "held, active accounts and registrations, deposits and withdrawals, self-exclusions, time-outs and limit "
        "changes by age band and gender, customer interactions."
    )
    params = (
        Param(
            "quarter",
            "quarter",
            label="Quarter",
            default=previous_uk_quarter,
            help="YYYY-Qn in the UK year: 2026-Q1 is April-June 2026, 2026-Q4 is January-March 2027",
        ),
    )
    permission = "reports.run_regulatory"
    due = Due("uk_quarterly", "quarter", days=28, regulator="UKGC")
    schedules = (
        ScheduleSpec(
            "the previous quarter",
            {"minute": "0", "hour": "6", "day_of_month": "1", "month_of_year": "1,4,7,10", "day_of_week": "*"},
        ),
    )

    def tables(self, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        quarter: Period = params["quarter"]
        zone = ZoneInfo(str((ctx.all(ZONE_SQL, [JURISDICTION]) or [("UTC",)])[0][0]))
        lo, hi = utc_window(quarter.start, quarter.end)
        values = {
            "jurisdiction": JURISDICTION,
            "start": quarter.start,
            "end": quarter.end,
            "lo": lo,
            "hi": hi,
            "channels": list(InteractionChannel.values),
        }

        def rows(sql: str) -> list[tuple[Any, ...]]:
            with ctx.cursor() as cursor:
                cursor.execute(sql, values)
                return list(cursor.fetchall())

        steps = 6
        yield Table(
            "ggy",
            "Gross gambling yield by product",
            [
                Column("product", "Product"),
                Column("currency", "Currency"),
                money("stakes", "Stakes", "Bets net of those rolled back, cash and bonus money"),
                money("bonus_stakes", "Of which bonus money", "The part of the stakes paid from bonus balances"),
                money("other_income", "Other income", "Rake, commission, fees: the ledger records none"),
                money("prizes", "Prizes", "Wins net of those rolled back"),
                money("ggy", "GGY", "Stakes + other income - prizes"),
            ],
            rows(GGY_SQL),
            note="Products from game categories: slots, table, live and poker are casino; sports is betting. "
            "Unattributed: wins posted without a game category.",
        )
        ctx.progress(1, steps)
        funds, source = closes.funds_at(ctx, quarter.end, jurisdiction=JURISDICTION)
        ctx.log(f"customer funds and accounts: from the {source}")
        held = [
            (currency, f.cash, f.bonus, f.cash + f.bonus, f.pending_withdrawals, f.players_with_funds)
            for currency, f in closes.by_currency(funds).items()
            if f.cash + f.bonus != 0 or f.pending_withdrawals != 0
        ]
        yield Table(
            "customer_funds",
            f"Customer funds held at the end of {quarter.end.isoformat()} ({zone.key})",
            [
                Column("currency", "Currency"),
                money("cash", "Cash balances"),
                money("bonus", "Bonus balances"),
                money("held", "Funds held", "Cash + bonus"),
                money("pending_withdrawals", "Pending withdrawals", "Requested, not yet paid or cancelled"),
                Column("players", "Players with funds", "int"),
            ],
            held,
        )
        ctx.progress(2, steps)
        accounts = closes.accounts_at(ctx, quarter.start, quarter.end)[0].get(JURISDICTION, closes.Accounts())
        active, registered = accounts.active, accounts.registrations
        yield Table(
            "accounts",
            "Accounts",
            [Column("figure", "Figure"), Column("count", "Count", "int")],
            [("active accounts", active), ("new registrations", registered)],
            note="Active: gambled in the quarter (at least one bet not rolled back). New: opened in the quarter.",
        )
        ctx.progress(3, steps)
        yield Table(
            "payments",
            "Deposits and withdrawals",
            [
                Column("currency", "Currency"),
                money("deposits", "Deposits"),
                Column("deposit_count", "Deposits (count)", "int"),
                money("withdrawals", "Withdrawals requested", "Net of those cancelled or rejected"),
                Column("withdrawal_count", "Withdrawals requested (count)", "int"),
                money("withdrawals_paid", "Withdrawals paid"),
                Column("withdrawals_paid_count", "Withdrawals paid (count)", "int"),
            ],
            rows(PAYMENTS_SQL),
        )
        ctx.progress(4, steps)
        yield Table(
            "protection",
            "Self-exclusions, time-outs and limit changes by age band and gender",
            [
                Column("measure", "Measure"),
                Column("age_band", "Age band", help="The age on the day of the event"),
                *(
                    Column(f"gender_{value or 'not_recorded'}", label, "int", help="As the player's profile records it")
                    for value, label in GENDERS
                ),
                Column("count", "All", "int"),
            ],
            rows(PROTECTION_SQL),
            note="Limit changes are the players' own requests, counted when asked for. Gender as the player's "
            "profile records it (given at registration, or corrected by staff); 'Not recorded' where it was not given.",
        )
        ctx.progress(5, steps)
        yield Table(
            "interactions",
            "Customer interactions",
            [
                Column("kind", "Kind"),
                Column("channel", "Channel"),
                Column("count", "Count", "int"),
                Column("players", "Players", "int"),
            ],
            rows(INTERACTIONS_SQL),
            note="RG interactions are those staff recorded with the player, by channel; operator exclusions and "
            "limits are the operator's interventions.",
        )
        ctx.progress(6, steps)


TYPES = (UkQuarterly,)
