"""mga_monthly: exact figures on the hand-built ledger (tests/reports/finledger.py) for February 2026, the funds
equal to the entries up to each player's local month end, the reconciliation's 0 and a tampered rollup's
difference, open bets, the XML, the due date and schedule, the parameter errors and determinism."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from defusedxml.ElementTree import fromstring
from django.db.models import F, Sum

from apps.reports.context import RunContext
from apps.reports.definitions.mga_monthly import MgaMonthly
from apps.reports.definitions.mga_xml import XML_NAMESPACE
from apps.reports.models import OperatorDay
from apps.reports.types import Table, month_period, report_type
from apps.wallet.models import Entry
from tests.reports import finledger

D = Decimal
MGA = MgaMonthly()
CASINO = "Casino games (slots, table, live)"


def run(**raw: str) -> dict[str, list[tuple]]:
    values, _texts, errors = MGA.clean(raw, today=date(2026, 3, 5))
    assert errors == {}
    return {table.name: [tuple(row) for row in table.rows] for table in MGA.tables(RunContext(), values)}


def xml(**raw: str) -> bytes:
    values, _texts, errors = MGA.clean(raw, today=date(2026, 3, 5))
    assert errors == {}
    tables = [Table(t.name, t.title, t.columns, list(t.rows)) for t in MGA.tables(RunContext(), values)]
    return MGA.xml(RunContext(), values, tables)


@pytest.fixture
def ledger(db):
    built = finledger.build()
    finledger.fill_rollups()
    return built


# currency, type, service, wagers, bonus wagers, winnings, bonus winnings, GGR, MT wagers, MT winnings, MT GGR
GAMING_TAX = [
    ("CAD", "1", CASINO, D("7.00"), D(0), D(0), D(0), D("7.00"), D(0), D(0), D(0)),  # 23:30 in Toronto on the 28th
    # mt's 30.00 slot bet took 20.00 cash and 10.00 bonus; its 12.00 win went 4.00 to the bonus balance
    ("EUR", "1", CASINO, D("40.00"), D("10.00"), D("27.00"), D("4.00"), D("13.00"), D("40.00"), D("27.00"), D("13")),
    ("EUR", "2", "Fixed-odds betting (sports)", D("8.00"), D(0), D(0), D(0), D("8.00"), D("8.00"), D(0), D("8.00")),
    ("EUR", "3", "Peer-to-peer games (poker)", D("3.00"), D(0), D(0), D(0), D("3.00"), D("3.00"), D(0), D("3.00")),
    # 5 + 5 - 5 (voided) + 4 wagered; 25 + 6 - 6 (rolled back) won
    ("GBP", "1", CASINO, D("9.00"), D(0), D("25.00"), D(0), D("-16.00"), D(0), D(0), D(0)),
]
# currency, wagers, bonus wagers, winnings, bonus winnings, GGR, bonus cost, NGR, MT wagers, MT winnings, MT GGR,
# MT bonus cost, MT share of wagers (percent)
TOTALS = [
    ("CAD", D("7.00"), D(0), D(0), D(0), D("7.00"), D(0), D("7.00"), D(0), D(0), D(0), D(0), D("0.00")),
    # bonus cost: 50.00 awarded - 44.00 forfeited
    ("EUR", D("51"), D("10"), D("27"), D("4"), D("24"), D("6"), D("18"), D("51"), D("27"), D("24"), D("6"), D("100")),
    ("GBP", D("9.00"), D(0), D("25.00"), D(0), D("-16.00"), D(0), D("-16.00"), D(0), D(0), D(0), D(0), D("0.00")),
]
# currency, cash, bonus, open bets, open bet count, pending withdrawals, total
FUNDS = [
    ("CAD", D("43.00"), D(0), D("7.00"), 1, D(0), D("50.00")),  # the bet of 23:30 Toronto time is open
    ("EUR", D("32.00"), D(0), D("3.00"), 1, D(0), D("35.00")),  # the poker bet of 23:00 Malta time is open
    ("GBP", D("66.00"), D(0), D(0), 0, D("50.00"), D("116.00")),  # the withdrawal asked on the 20th is pending
]
# currency, opening, deposits, withdrawals paid, wagers, winnings, bonus awarded, bonus forfeited, adjustments,
# closing, difference
RECONCILIATION = [
    ("CAD", D(0), D("50.00"), D(0), D("7.00"), D(0), D(0), D(0), D(0), D("43.00"), D(0)),
    ("EUR", D("20"), D("40"), D("20"), D("51"), D("27"), D("50"), D("44"), D("10"), D("32"), D(0)),  # +15 -5 adjusted
    ("GBP", D("100.00"), D(0), D(0), D("9.00"), D("25.00"), D(0), D(0), D(0), D("116.00"), D(0)),
]


def test_it_gives_the_exact_figures_of_the_month(ledger):
    assert run(month="2026-02") == {
        "gaming_tax": GAMING_TAX,
        "gaming_tax_totals": TOTALS,
        "player_funds": FUNDS,
        "reconciliation": RECONCILIATION,
    }


def test_the_month_end_balances_are_the_entries_up_to_each_players_local_month_end(ledger):
    ends = {  # the first instant of 1 March on each player's clock
        ledger.gb.pk: datetime(2026, 3, 1, 0, 0, tzinfo=UTC),
        ledger.mt.pk: datetime(2026, 2, 28, 23, 0, tzinfo=UTC),
        ledger.mt2.pk: datetime(2026, 2, 28, 23, 0, tzinfo=UTC),
        ledger.on.pk: datetime(2026, 3, 1, 5, 0, tzinfo=UTC),
    }
    expected: dict[tuple[str, str], Decimal] = {}
    for player_id, end in ends.items():
        rows = (
            Entry.objects.filter(account__player_id=player_id, created_at__lt=end)
            .values("currency", "account__kind")
            .annotate(total=Sum("amount"))
        )
        for row in rows:
            key = (row["currency"], row["account__kind"])
            expected[key] = expected.get(key, D(0)) + row["total"]
    funds = {row[0]: row for row in run(month="2026-02")["player_funds"]}
    for currency, row in funds.items():
        assert row[1] == expected.get((currency, "cash"), D(0))
        assert row[2] == expected.get((currency, "bonus"), D(0))
        assert row[5] == expected.get((currency, "pending_withdrawal"), D(0))


def test_the_next_month_opens_with_the_funds_this_one_closed_with(ledger):
    closing = {row[0]: row[9] for row in run(month="2026-02")["reconciliation"]}
    march = run(month="2026-03")
    assert {row[0]: row[1] for row in march["reconciliation"]} == closing
    assert [row[-1] for row in march["reconciliation"]] == [D(0), D(0), D(0)]
    # in March: GB's 2.00 bet, mt's 4.00 win of the poker round, Toronto's 1.00 bet after midnight
    assert [(row[0], row[1], row[6]) for row in march["player_funds"]] == [
        ("CAD", D("42.00"), D("42.00")),
        ("EUR", D("36.00"), D("36.00")),
        ("GBP", D("64.00"), D("114.00")),
    ]


def test_a_tampered_rollup_shows_as_an_unexplained_difference(ledger):
    tampered = OperatorDay.objects.filter(day=date(2026, 2, 5), type="deposit", currency="EUR")
    assert tampered.update(amount=F("amount") + D("1.25")) == 1
    reconciliation = {row[0]: row for row in run(month="2026-02")["reconciliation"]}
    assert reconciliation["EUR"][2] == D("41.25")  # the deposits as the rollups now say
    assert reconciliation["EUR"][-1] == D("1.25")
    assert reconciliation["GBP"][-1] == D(0) and reconciliation["CAD"][-1] == D(0)


def test_open_bets_are_those_of_the_last_hours_without_a_win_or_rollback(ledger):
    # over the whole month the sports bet of the 15th (never won: lost) counts too, and so does gb's live bet of
    # the 11th, whose round's only win was rolled back (the round is open again)
    month = {row[0]: (row[3], row[4]) for row in run(month="2026-02", open_bet_hours="744")["player_funds"]}
    assert month == {"CAD": (D("7.00"), 1), "EUR": (D("11.00"), 2), "GBP": (D("4.00"), 1)}
    # the last hour: 23:00 Malta time and 23:30 Toronto time are in it
    assert [row[3] for row in run(month="2026-02", open_bet_hours="1")["player_funds"]] == [D("7"), D("3"), D(0)]
    assert [row[3] for row in run(month="2026-02", open_bet_hours="0")["player_funds"]] == [D(0), D(0), D(0)]
    # at the end of March mt's poker round has its win and Toronto's bet of 00:30 is a day old
    march = {row[0]: (row[3], row[4]) for row in run(month="2026-03", open_bet_hours="744")["player_funds"]}
    assert march == {"CAD": (D("8.00"), 2), "EUR": (D(0), 0), "GBP": (D("2.00"), 1)}


def test_the_xml_holds_every_figure_with_its_currency_and_is_the_same_twice(ledger):
    document = xml(month="2026-02")
    assert document == xml(month="2026-02")
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<MgaMonthlyReturn xmlns=")
    root = fromstring(document)
    ns = {"m": XML_NAMESPACE}
    assert root.tag == f"{{{XML_NAMESPACE}}}MgaMonthlyReturn"
    assert (root.get("month"), root.get("dueDate"), root.get("openBetHours")) == ("2026-02", "2026-03-20", "24")
    casino_eur = root.find("m:GamingTax/m:ServiceType[@type='1']/m:Figures[@currency='EUR']", ns)
    assert [(child.tag.split("}")[1], child.get("currency"), child.text) for child in casino_eur] == [
        ("TotalWagers", "EUR", "40.00"),
        ("BonusWagers", "EUR", "10.00"),
        ("TotalWinnings", "EUR", "27.00"),
        ("BonusWinnings", "EUR", "4.00"),
        ("GrossGamingRevenue", "EUR", "13.00"),
        ("MalteseWagers", "EUR", "40.00"),
        ("MalteseWinnings", "EUR", "27.00"),
        ("MalteseGrossGamingRevenue", "EUR", "13.00"),
    ]
    totals = root.find("m:GamingTax/m:Totals[@currency='EUR']", ns)
    assert totals.find("m:BonusCost", ns).text == "6.00"
    assert totals.find("m:MalteseShareOfWagers", ns).text == "100.00"
    funds = root.find("m:PlayerFunds/m:Funds[@currency='GBP']", ns)
    assert funds.find("m:PendingWithdrawals", ns).text == "50.00"
    assert funds.find("m:TotalPlayerFunds", ns).text == "116.00"
    open_bets = root.find("m:PlayerFunds/m:Funds[@currency='CAD']/m:OpenBets", ns)
    assert (open_bets.get("count"), open_bets.text) == ("1", "7.00")
    differences = root.findall("m:Reconciliation/m:Currency/m:UnexplainedDifference", ns)
    assert [(d.get("currency"), d.text) for d in differences] == [("CAD", "0.00"), ("EUR", "0.00"), ("GBP", "0.00")]


def test_the_same_data_gives_the_same_rows_twice(ledger):
    assert run(month="2026-02") == run(month="2026-02")


@pytest.mark.django_db
def test_a_month_without_postings_has_no_rows():
    assert run(month="2025-06") == {"gaming_tax": [], "gaming_tax_totals": [], "player_funds": [], "reconciliation": []}


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"month": "2026-13"}, "month", "Give a month as YYYY-MM, e.g. 2026-03."),
        ({"month": "February"}, "month", "Give a month as YYYY-MM, e.g. 2026-03."),
        ({"month": "2026-02", "open_bet_hours": "745"}, "open_bet_hours", "From 0 to 744 hours."),
        ({"month": "2026-02", "open_bet_hours": "-1"}, "open_bet_hours", "Give a whole number."),
        ({"month": "2026-02", "start": "2026-02-01"}, "start", "mga_monthly has no parameter 'start'"),
    ],
)
def test_it_refuses_parameters_it_cannot_read(raw, field, message):
    _values, _texts, errors = MGA.clean(raw, today=date(2026, 3, 5))
    assert field in errors and errors[field].startswith(message)


def test_it_is_due_on_the_20th_for_the_previous_month_and_scheduled_on_the_1st():
    registered = report_type("mga_monthly")
    assert isinstance(registered, MgaMonthly)
    assert registered.permission == "reports.run_regulatory"
    assert "xml" in registered.formats
    assert registered.due is not None and registered.due.regulator == "MGA"
    assert registered.due.due_date(month_period("2026-02")) == date(2026, 3, 20)
    assert registered.due.due_date(month_period("2026-12")) == date(2027, 1, 20)
    _values, texts, errors = registered.clean({}, today=date(2026, 3, 1))
    assert errors == {} and texts == {"month": "2026-02", "open_bet_hours": "24"}
    (schedule,) = registered.schedules
    assert (schedule.crontab["day_of_month"], schedule.crontab["hour"], schedule.crontab["minute"]) == ("1", "6", "0")
    assert schedule.params == {}  # the month is the previous month when it fires
