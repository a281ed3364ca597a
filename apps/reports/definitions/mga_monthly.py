"""The MGA monthly return (issue 18; DESIGN §4): the gaming tax basis per gaming-service type, the players' funds at
the month's end, and a reconciliation of the month's flows against those funds. Due on the 20th of the next month.

Gaming-service types (the Malta Gaming Authority's licence types) from the ledger's game categories:

    ====  ==========================================  ======================
    type  service                                     game categories
    ====  ==========================================  ======================
    1     casino games                                slots, table, live
    2     fixed-odds betting                          sports
    3     peer-to-peer games (operator's commission)  poker
    -     unclassified                                a posting without one
    ====  ==========================================  ======================

Type 4 (controlled skill games, lotteries) has no game category on this platform: nothing is mapped to it. A win or
rollback the platform posted without a game category lands in "unclassified" rather than being guessed.

Flows come from the operator day rollups (``reports_operator_day``: local days on each player's clock), never the
ledger: **wagers** = stakes - voided stakes; **bonus wagers** = the bonus money in them; **winnings** = wins - win
rollbacks; **bonus winnings** = the part of them paid into bonus balances; **GGR** = wagers - winnings; **bonus
cost** = awards - forfeits (as in ggr_daily and apps/bonuses/stats.py; bonuses belong to no game, so it is a
currency's figure, not a type's). The Maltese players' share is the same figures for players of jurisdiction MT
(residence Malta), and their share of the wagers in percent.

Player funds at the month's end, per currency: the players' cash, bonus and pending-withdrawal balances as the
entries stood at the end of the month's last local day on each player's clock (the same clock the rollups' days
follow, so the reconciliation compares like with like), plus **open bets**: the stakes of bets placed in the last
``open_bet_hours`` hours (default 24) before that end, neither rolled back nor settled by then (a win of the same
client in their round, not itself rolled back by then: the wallet's own test of a settled round). The ledger
records no round's end and a lost round posts nothing, so an older bet without a win is taken as lost (its stake is
the house's); a sports bet on an event more than a day away is therefore not counted open.

Month-end balances and open bets are read from the month-end closes (``apps.reports.closes``: taken once a month's
last day is over on every clock, a few rows per jurisdiction and currency): this month's and the previous one's for
the opening funds. Before a close is taken (or with an open-bets window other than its 24 hours) the same figures
are computed from the ledger with the same statements: today's balances less every entry of a later local day (an
index range on the entries' creation time), which equals the sum of the entries up to the end (the ledger keeps
balances in the posting's statement; ``manage.py ledger_verify`` proves them). Pending withdrawals are the pending-
withdrawal balances: requested, and neither paid, rejected, failed nor cancelled by the end.

Reconciliation, per currency: opening funds (the previous month's end) + deposits - withdrawals paid - wagers +
winnings + bonus awards - bonus forfeits + adjustments (signed) - closing funds = the unexplained difference, which
is 0 when the rollups agree with the ledger. Funds here are cash + bonus + pending withdrawals (open bets are stakes
already out of the balances). A withdrawal request, its cancellation and a bonus conversion move money between the
player's own balances and change no total.

XML: ``xml()``, a document of this project's design (apps/reports/definitions/mga_xml.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from apps.reports import closes
from apps.reports.context import RunContext
from apps.reports.definitions import mga_xml
from apps.reports.definitions.common import money, set_work_mem
from apps.reports.types import (
    Column,
    Due,
    Param,
    Period,
    ReportType,
    ScheduleSpec,
    Table,
    previous_month,
)

MALTA = "MT"
LONGEST_OPEN_BET_HOURS = 24 * 31

# (type, service, game categories): the MGA's gaming-service types.
SERVICE_TYPES = (
    ("1", "Casino games (slots, table, live)", ("slots", "table", "live")),
    ("2", "Fixed-odds betting (sports)", ("sports",)),
    ("3", "Peer-to-peer games (poker)", ("poker",)),
)
UNCLASSIFIED = ("-", "Unclassified (no game category)")
GAME_TYPES = ("bet", "rollback", "win", "win_rollback")

_TYPE_CASE = (
    "CASE "
    + " ".join(
        f"WHEN game_category IN ({', '.join(repr(c) for c in categories)}) THEN '{code}'"
        for code, _name, categories in SERVICE_TYPES
    )
    + f" ELSE '{UNCLASSIFIED[0]}' END"
)
_NAME_CASE = (
    "CASE "
    + " ".join(f"WHEN {_TYPE_CASE} = '{code}' THEN '{name}'" for code, name, _c in SERVICE_TYPES)
    + f" ELSE '{UNCLASSIFIED[1]}' END"
)


def _sum(expression: str, types: Sequence[str], *, malta: bool = False) -> str:
    where = f"type IN ({', '.join(repr(t) for t in types)})" + (f" AND jurisdiction = '{MALTA}'" if malta else "")
    return f"coalesce(sum({expression}) FILTER (WHERE {where}), 0)"


def _signed(types_signs: Mapping[str, int], *, malta: bool = False) -> str:
    """The sum of ``amount`` over the types, each with its sign."""
    case = " ".join(f"WHEN '{t}' THEN {sign}" for t, sign in types_signs.items())
    return _sum(f"amount * CASE type {case} END", list(types_signs), malta=malta)


WAGERS = {"bet": 1, "rollback": -1}
WINNINGS = {"win": 1, "win_rollback": -1}


def _tax_figures(*, malta: bool) -> list[str]:
    wagers, winnings = _signed(WAGERS, malta=malta), _signed(WINNINGS, malta=malta)
    figures = [wagers]
    if not malta:
        # bonus_amount is the signed move of the bonus balances: a bet's is negative, its rollback's positive
        figures += [_sum("-bonus_amount", list(WAGERS)), winnings, _sum("bonus_amount", list(WINNINGS))]
    else:
        figures += [winnings]
    figures.append(f"({wagers}) - ({winnings})")
    return figures


BONUS_COST = f"{_signed({'bonus_award': 1})} - {_signed({'bonus_forfeit': 1})}"
MALTA_BONUS_COST = f"{_signed({'bonus_award': 1}, malta=True)} - {_signed({'bonus_forfeit': 1}, malta=True)}"

# Per (currency, service type) and per currency (grouping sets): one statement over the month's rollup rows.
TAX_SQL = f"""
    SELECT grouping(mga_type), currency, mga_type, min(service), {", ".join(_tax_figures(malta=False))},
           {", ".join(_tax_figures(malta=True))}, {BONUS_COST}, {MALTA_BONUS_COST}
    FROM (
        SELECT *, {_TYPE_CASE} AS mga_type, {_NAME_CASE} AS service FROM reports_operator_day
        WHERE day >= %s AND day <= %s AND type IN ('bet', 'rollback', 'win', 'win_rollback', 'bonus_award',
                                                   'bonus_forfeit')
    ) o
    GROUP BY GROUPING SETS ((currency, mga_type), (currency))
    HAVING grouping(mga_type) = 1 OR count(*) FILTER (WHERE type IN ('bet', 'rollback', 'win', 'win_rollback')) > 0
    ORDER BY grouping(mga_type), currency COLLATE "C", mga_type COLLATE "C"
"""  # noqa: S608 (only constants are formatted in)

FLOWS = (
    ("deposits", "Deposits", {"deposit": 1}),
    ("withdrawals_paid", "Withdrawals paid", {"withdrawal_paid": 1}),
    ("wagers", "Wagers", WAGERS),
    ("winnings", "Winnings", WINNINGS),
    ("bonus_awarded", "Bonus awarded", {"bonus_award": 1}),
    ("bonus_forfeited", "Bonus forfeited", {"bonus_forfeit": 1}),
)
# The month's flows per currency (adjustments: their signed cash move).
FLOWS_SQL = f"""
    SELECT currency, {", ".join(_signed(signs) for _key, _label, signs in FLOWS)},
           {_sum("cash_amount", ["adjustment"])}
    FROM reports_operator_day WHERE day >= %s AND day <= %s
    GROUP BY currency ORDER BY currency COLLATE "C"
"""  # noqa: S608 (only constants are formatted in)

TAX_COLUMNS = [
    Column("currency", "Currency"),
    Column("mga_type", "Type", help="The MGA gaming-service type (1 casino, 2 betting, 3 peer-to-peer; - none)."),
    Column("service", "Service"),
    money("wagers", "Total wagers", "Stakes - voided stakes, cash and bonus money."),
    money("bonus_wagers", "Bonus wagers", "The bonus money in the wagers."),
    money("winnings", "Total winnings", "Wins - win rollbacks, to cash and to bonus balances."),
    money("bonus_winnings", "Bonus winnings", "The part of the winnings paid into bonus balances."),
    money("ggr", "Gross gaming revenue", "Wagers - winnings."),
    money("mt_wagers", "Maltese players' wagers", "Wagers of players of jurisdiction MT."),
    money("mt_winnings", "Maltese players' winnings"),
    money("mt_ggr", "Maltese players' GGR"),
]
TOTAL_COLUMNS = [
    Column("currency", "Currency"),
    *TAX_COLUMNS[3:8],
    money("bonus_cost", "Bonus cost", "Bonus awards - bonus forfeits (the net debit of the bonus cost account)."),
    money("ngr", "Net gaming revenue", "GGR - bonus cost."),
    *TAX_COLUMNS[8:],
    money("mt_bonus_cost", "Maltese players' bonus cost"),
    Column("mt_share", "Maltese share of wagers", "percent", help="Maltese players' wagers, percent of all wagers."),
]
FUNDS_COLUMNS = [
    Column("currency", "Currency"),
    money("cash", "Cash balances", "Players' cash balances at the end of the month's last local day."),
    money("bonus", "Bonus balances", "Players' bonus balances then."),
    money("open_bets", "Open bets", "Stakes of bets of the last hours neither rolled back nor won by then."),
    Column("open_bet_count", "Open bet count", "int"),
    money("pending_withdrawals", "Pending withdrawals", "Requested and neither paid nor given back by then."),
    money("total", "Total player funds", "Cash + bonus + open bets + pending withdrawals."),
]
RECONCILIATION_COLUMNS = [
    Column("currency", "Currency"),
    money("opening", "Opening funds", "Cash + bonus + pending withdrawals at the previous month's end."),
    *(money(key, label) for key, label, _signs in FLOWS),
    money("adjustments", "Adjustments", "Staff adjustments: credits - debits."),
    money("closing", "Closing funds", "Cash + bonus + pending withdrawals at the month's end."),
    money(
        "difference",
        "Unexplained difference",
        "Opening + deposits - withdrawals paid - wagers + winnings + bonus awarded - bonus forfeited + adjustments "
        "- closing: 0 when the rollups agree with the ledger.",
    ),
]
ZERO = Decimal("0")


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part * 100 / whole).quantize(Decimal("0.01"))


class MgaMonthly(ReportType):
    code = "mga_monthly"
    title = "MGA monthly return"
    description = (
        "The Malta Gaming Authority's monthly figures: the gaming tax basis per gaming-service type (wagers, bonus, "
        "winnings, the Maltese players' share), the players' funds at the month's end and their reconciliation "
        "with the month's flows."
    )
    params = (
        Param("month", "month", "Month", default=previous_month, help="YYYY-MM."),
        Param(
            "open_bet_hours",
            "int",
            "Open bets: hours",
            default="24",
            help="A bet of the last hours before the month's end with no win and no rollback by then is open.",
        ),
    )
    formats = ("csv", "xlsx", "pdf", "xml")
    permission = "reports.run_regulatory"
    due = Due("monthly", "month", day=20, regulator="MGA")
    schedules = (
        ScheduleSpec(
            "the previous month",
            {"minute": "0", "hour": "6", "day_of_month": "1", "month_of_year": "*", "day_of_week": "*"},
            format="xml",
        ),
    )

    def clean(self, raw: Mapping[str, str], *, today: date) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
        values, texts, errors = super().clean(raw, today=today)
        hours = values.get("open_bet_hours")
        if hours is not None and not 0 <= hours <= LONGEST_OPEN_BET_HOURS:
            errors["open_bet_hours"] = f"From 0 to {LONGEST_OPEN_BET_HOURS} hours."
        return values, texts, errors

    def tables(self, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        set_work_mem(ctx)
        month: Period = params["month"]
        hours: int = params["open_bet_hours"]
        rows = ctx.all(TAX_SQL, [month.start, month.end])
        tax = [tuple(row[1:12]) for row in rows if row[0] == 0]
        totals = [self._total(row) for row in rows if row[0] == 1]
        ctx.progress(1, 4)
        yield Table("gaming_tax", "Gaming tax basis by gaming-service type", TAX_COLUMNS, tax)
        ctx.progress(2, 4)
        yield Table("gaming_tax_totals", "Gaming tax basis: totals per currency", TOTAL_COLUMNS, totals)
        opening, closing = self._funds(ctx, month)
        bets_at, bets_source = closes.open_bets_at(ctx, month.end, hours)
        ctx.log(f"open bets: from the {bets_source}")
        open_bets: dict[str, tuple[Decimal, int]] = {}
        for (_jurisdiction, currency), (amount, count) in sorted(bets_at.items()):
            was = open_bets.get(currency, (ZERO, 0))
            open_bets[currency] = (was[0] + amount, was[1] + count)
        funds = []
        for currency in sorted(set(closing) | set(open_bets)):
            kinds = closing.get(currency, {})
            cash, bonus = kinds.get("cash", ZERO), kinds.get("bonus", ZERO)
            pending = kinds.get("pending_withdrawal", ZERO)
            bets, count = open_bets.get(currency, (ZERO, 0))
            funds.append((currency, cash, bonus, bets, count, pending, cash + bonus + bets + pending))
        ctx.progress(3, 4)
        yield Table("player_funds", "Player funds at the month's end", FUNDS_COLUMNS, funds)
        flows = {row[0]: row[1:] for row in ctx.all(FLOWS_SQL, [month.start, month.end])}
        reconciliation = []
        for currency in sorted(set(opening) | set(closing) | set(flows)):
            before = sum(opening.get(currency, {}).values(), ZERO)
            after = sum(closing.get(currency, {}).values(), ZERO)
            deposits, paid, wagers, winnings, awarded, forfeited, adjustments = flows.get(currency, (ZERO,) * 7)
            expected = before + deposits - paid - wagers + winnings + awarded - forfeited + adjustments
            reconciliation.append(
                (
                    currency,
                    before,
                    deposits,
                    paid,
                    wagers,
                    winnings,
                    awarded,
                    forfeited,
                    adjustments,
                    after,
                    expected - after,
                )
            )
        ctx.progress(4, 4)
        yield Table(
            "reconciliation",
            "Reconciliation: opening funds + the month's flows - closing funds",
            RECONCILIATION_COLUMNS,
            reconciliation,
        )

    @staticmethod
    def _total(row: Sequence[Any]) -> tuple[Any, ...]:
        (
            _g,
            currency,
            _type,
            _service,
            wagers,
            bonus_wagers,
            winnings,
            bonus_winnings,
            ggr,
            mt_wagers,
            mt_winnings,
            mt_ggr,
            cost,
            mt_cost,
        ) = row
        return (
            currency,
            wagers,
            bonus_wagers,
            winnings,
            bonus_winnings,
            ggr,
            cost,
            ggr - cost,
            mt_wagers,
            mt_winnings,
            mt_ggr,
            mt_cost,
            _percent(mt_wagers, wagers),
        )

    @staticmethod
    def _funds(ctx: RunContext, month: Period) -> tuple[dict[str, dict[str, Decimal]], dict[str, dict[str, Decimal]]]:
        """(opening, closing): currency -> account kind -> the players' balances at the previous month's end and
        at this month's, from those days' closes when they were taken, else from the ledger."""
        ends = []
        for day in (month.start - timedelta(days=1), month.end):
            figures, source = closes.funds_at(ctx, day)
            ctx.log(f"player funds at the end of {day.isoformat()}: from the {source}")
            ends.append(
                {
                    currency: {"cash": f.cash, "bonus": f.bonus, "pending_withdrawal": f.pending_withdrawals}
                    for currency, f in closes.by_currency(figures).items()
                }
            )
        return ends[0], ends[1]

    def xml(self, ctx: RunContext, params: dict[str, Any], tables: list[Table]) -> bytes:
        month: Period = params["month"]
        assert self.due is not None
        return mga_xml.document(month, self.due.due_date(month), params["open_bet_hours"], tables)


TYPES = (MgaMonthly,)
