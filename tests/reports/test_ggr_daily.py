"""ggr_daily: exact figures on the hand-built ledger (tests/reports/finledger.py), the same from the ledger and the
rollups, the local-midnight boundary, the filters, the parameter errors and determinism."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from apps.reports.context import RunContext
from apps.reports.definitions.ggr_daily import DailyGgr
from apps.reports.types import report_type
from apps.wallet import posting
from tests.factories import PlayerFactory
from tests.reports import finledger

D = Decimal
TODAY = date(2026, 4, 1)
GGR = DailyGgr()


def run(**raw: str) -> dict[str, list[tuple]]:
    values, _texts, errors = GGR.clean(raw, today=TODAY)
    assert errors == {}
    assert GGR.check(values, None) == {}
    return {table.name: [tuple(row) for row in table.rows] for table in GGR.tables(RunContext(), values)}


def day(month: int, number: int) -> date:
    return date(2026, month, number)


# day, jurisdiction, currency, category, provider, bets, stakes, voids, voided, wins, win rollbacks, GGR, bonus cost,
# NGR
FEBRUARY = [
    (day(2, 1), "MT", "EUR", "", "", 0, D(0), 0, D(0), D(0), D(0), D(0), D("50.00"), D("-50.00")),
    (day(2, 5), "MT", "EUR", "table", "evo", 1, D("10.00"), 0, D(0), D("15.00"), D(0), D("-5.00"), D(0), D("-5.00")),
    (day(2, 10), "GB", "GBP", "slots", "netent", 1, D("5.00"), 0, D(0), D("25.00"), D(0), D("-20.00"), D(0), D("-20")),
    (day(2, 10), "GB", "GBP", "table", "evo", 1, D("5.00"), 1, D("5.00"), D(0), D(0), D(0), D(0), D(0)),
    (day(2, 11), "GB", "GBP", "live", "evo", 1, D("4.00"), 0, D(0), D("6.00"), D("6.00"), D("4.00"), D(0), D("4.00")),
    # 23:30 in Malta on the 14th (22:30 UTC): the bet; 00:30 on the 15th (23:30 UTC, still the 14th in UTC): its win
    (day(2, 14), "MT", "EUR", "slots", "pragmatic", 1, D("30.00"), 0, D(0), D(0), D(0), D("30.00"), D(0), D("30.00")),
    (day(2, 15), "MT", "EUR", "slots", "pragmatic", 0, D(0), 0, D(0), D("12.00"), D(0), D("-12.00"), D(0), D("-12")),
    (day(2, 15), "MT", "EUR", "sports", "betradar", 1, D("8.00"), 0, D(0), D(0), D(0), D("8.00"), D(0), D("8.00")),
    (day(2, 16), "MT", "EUR", "", "", 0, D(0), 0, D(0), D(0), D(0), D(0), D("-44.00"), D("44.00")),
    # 23:30 in Toronto on the 28th is 04:30 UTC on 1 March
    (day(2, 28), "CA-ON", "CAD", "slots", "netent", 1, D("7.00"), 0, D(0), D(0), D(0), D("7.00"), D(0), D("7.00")),
    (day(2, 28), "MT", "EUR", "poker", "pstars", 1, D("3.00"), 0, D(0), D(0), D(0), D("3.00"), D(0), D("3.00")),
]
# currency, bets, stakes, voids, voided, wins, win rollbacks, GGR, bonus cost, NGR
FEBRUARY_TOTALS = [
    ("CAD", 1, D("7.00"), 0, D(0), D(0), D(0), D("7.00"), D(0), D("7.00")),
    ("EUR", 4, D("51.00"), 0, D(0), D("27.00"), D(0), D("24.00"), D("6.00"), D("18.00")),
    # (14 - 5) - (31 - 6): the voided bet is out of GGR, the rolled-back win too
    ("GBP", 3, D("14.00"), 1, D("5.00"), D("31.00"), D("6.00"), D("-16.00"), D(0), D("-16.00")),
]


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["ledger", "rollups"])
def test_it_gives_the_exact_figures_of_each_local_day_and_the_totals(source):
    finledger.build()
    finledger.fill_rollups()
    tables = run(start="2026-02-01", end="2026-02-28", source=source)
    assert tables == {"by_day": FEBRUARY, "totals": FEBRUARY_TOTALS}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"jurisdiction": "MT"},
        {"jurisdiction": "CA-ON"},
        {"currency": "GBP"},
        {"brand": "other"},
        {"brand": "default", "jurisdiction": "MT"},
    ],
)
def test_the_ledger_and_the_rollups_give_the_same_figures(filters):
    finledger.build()
    finledger.fill_rollups()
    from_ledger = run(start="2026-01-01", end="2026-03-31", source="ledger", **filters)
    assert from_ledger == run(start="2026-01-01", end="2026-03-31", source="rollups", **filters)
    assert from_ledger["by_day"]  # each filter keeps something: the comparison is not of two empty lists


@pytest.mark.django_db
def test_the_filters_keep_their_rows_only():
    finledger.build()
    mt = run(start="2026-02-01", end="2026-02-28", jurisdiction="MT")["by_day"]
    assert mt == [row for row in FEBRUARY if row[1] == "MT"]
    other = run(start="2026-02-01", end="2026-02-28", brand="other")  # mt2's brand
    assert other["by_day"] == [FEBRUARY[1]]
    assert other["totals"] == [("EUR", 1, D("10.00"), 0, D(0), D("15.00"), D(0), D("-5.00"), D(0), D("-5.00"))]
    assert run(start="2026-02-01", end="2026-02-28", currency="CAD")["totals"] == [FEBRUARY_TOTALS[0]]


@pytest.mark.django_db
def test_a_local_midnight_puts_two_bets_an_hour_apart_on_two_days():
    finledger.build()
    finledger.fill_rollups()
    for source in ("ledger", "rollups"):
        last_day = run(start="2026-02-28", end="2026-02-28", source=source, jurisdiction="CA-ON")["by_day"]
        first_day = run(start="2026-03-01", end="2026-03-01", source=source, jurisdiction="CA-ON")["by_day"]
        assert [(row[0], row[6]) for row in last_day] == [(day(2, 28), D("7.00"))]  # 23:30 in Toronto
        assert [(row[0], row[6]) for row in first_day] == [(day(3, 1), D("1.00"))]  # 00:30 in Toronto


@pytest.mark.django_db
def test_a_rollback_counts_on_the_day_it_is_posted_and_the_period_excludes_the_voided_bet():
    player = PlayerFactory()
    with time_machine.travel(datetime(2026, 2, 2, 20, 0, tzinfo=UTC), tick=False):
        posting.wallet_deposit(player=player, amount=D("10.00"), currency="GBP")
        posting.wallet_bet(
            player=player,
            amount=D("4.00"),
            currency="GBP",
            round_id="r1",
            game_category="table",
            provider="evo",
            reference="b1",
            api_client="pfx",
        )
    with time_machine.travel(datetime(2026, 2, 3, 9, 0, tzinfo=UTC), tick=False):
        posting.wallet_rollback(player=player, bet_reference="b1", api_client="pfx")
    finledger.fill_rollups()
    for source in ("ledger", "rollups"):
        tables = run(start="2026-02-02", end="2026-02-03", source=source)
        assert [row[:11] for row in tables["by_day"]] == [
            (day(2, 2), "GB", "GBP", "table", "evo", 1, D("4.00"), 0, D(0), D(0), D(0)),
            (day(2, 3), "GB", "GBP", "table", "evo", 0, D(0), 1, D("4.00"), D(0), D(0)),
        ]
        assert tables["totals"] == [("GBP", 1, D("4.00"), 1, D("4.00"), D(0), D(0), D(0), D(0), D(0))]


@pytest.mark.django_db
def test_the_same_data_gives_the_same_rows_twice():
    finledger.build()
    finledger.fill_rollups()
    for source in ("ledger", "rollups"):
        first = run(start="2026-01-01", end="2026-03-31", source=source)
        assert first == run(start="2026-01-01", end="2026-03-31", source=source)


FEB_1_2 = {"start": "2026-02-01", "end": "2026-02-02"}


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"start": "2026-02-10", "end": "2026-02-09"}, "end", "The end is before the start."),
        ({"start": "2026-01-01", "end": "2026-04-03"}, "end", "At most 92 days from the ledger: use source=rollups."),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "start", "Give a date as YYYY-MM-DD, e.g. 2026-03-31."),
        (
            {"start": "2026-02-01", "end": "2026-02-02", "source": "replica"},
            "source",
            "Choose one of: ledger, rollups.",
        ),
        (
            {"start": "2026-02-01", "end": "2026-02-02", "currency": "EURO"},
            "currency",
            "Give a currency code, e.g. EUR.",
        ),
        ({"start": "2026-02-01", "end": "2026-02-02", "jurisdiction": "M"}, "jurisdiction", "Give a jurisdiction code"),
        ({"start": "2026-02-01", "end": "2026-02-02", "player": "1"}, "player", "ggr_daily has no parameter 'player'"),
    ],
)
def test_it_refuses_parameters_it_cannot_read(raw, field, message):
    _values, _texts, errors = GGR.clean(raw, today=TODAY)
    assert field in errors and errors[field].startswith(message)


def test_a_long_period_is_fine_from_the_rollups_and_the_default_is_yesterday_from_the_ledger():
    _values, _texts, errors = GGR.clean({"start": "2025-01-01", "end": "2026-03-31", "source": "rollups"}, today=TODAY)
    assert errors == {}
    _values, texts, errors = GGR.clean({}, today=TODAY)
    assert errors == {} and texts == {"start": "2026-03-31", "end": "2026-03-31", "source": "ledger"}


@pytest.mark.django_db
def test_a_brand_that_does_not_exist_is_an_error_not_an_empty_report():
    values, _texts, errors = GGR.clean({"start": "2026-02-01", "end": "2026-02-02", "brand": "nope"}, today=TODAY)
    assert errors == {}
    assert GGR.check(values, None) == {"brand": "No brand with the code 'nope'."}


def test_it_is_registered_for_the_financial_permission():
    registered = report_type("ggr_daily")
    assert isinstance(registered, DailyGgr) and registered.permission == "reports.run_financial"
