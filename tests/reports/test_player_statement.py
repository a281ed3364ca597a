"""player_statement: every transaction of one player in a period of their local days with the moves and running
balances per account, the opening and closing balances, the player by id or external id (never an ambiguous one),
streamed, the parameter errors and determinism (tests/reports/finledger.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from apps.reports.context import RunContext
from apps.reports.definitions.player_statement import PlayerStatement
from apps.reports.errors import ReportParamsInvalid
from apps.reports.types import report_type
from tests.factories import PlayerFactory
from tests.reports import finledger

D = Decimal
STATEMENT = PlayerStatement()


def tables(**raw: str):
    values, _texts, errors = STATEMENT.clean(raw, today=date(2026, 3, 5))
    assert errors == {}
    assert STATEMENT.check(values, None) == {}
    return list(STATEMENT.tables(RunContext(), values))


def run(**raw: str) -> dict[str, list[tuple]]:
    return {table.name: [tuple(row) for row in table.rows] for table in tables(**raw)}


@pytest.fixture
def ledger(db):
    return finledger.build()


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_it_lists_every_transaction_of_the_period_with_running_balances(ledger):
    ids = ledger.transactions
    result = run(player="FL0102", start="2026-02-01", end="2026-02-28")
    # currency, account, opening, credits, debits, closing
    assert result["accounts"] == [
        ("EUR", "cash", D("20.00"), D("23.00"), D("36.00"), D("7.00")),
        ("EUR", "bonus", D(0), D("54.00"), D("54.00"), D(0)),
        ("EUR", "pending_withdrawal", D(0), D(0), D(0), D(0)),
    ]

    def line(when, day, name, type_, amount, cash, bonus, cash_after, bonus_after):
        # time, local day, id, type, amount, currency, cash, bonus and pending moved, their balances after
        return (when, date(2026, 2, day), ids[name], type_, D(amount), "EUR", D(cash), D(bonus), D(0), D(cash_after),
                D(bonus_after), D(0))  # fmt: skip

    assert [row[:12] for row in result["transactions"]] == [
        line(utc(2, 1, 9), 1, "M2", "bonus_award", "50", "0", "50", "20", "50"),
        line(utc(2, 14, 22, 30), 14, "M3", "bet", "30", "-20", "-10", "0", "40"),
        line(utc(2, 14, 23, 30), 15, "M4", "win", "12", "8", "4", "8", "44"),  # 00:30 on the 15th in Malta
        line(utc(2, 15, 10), 15, "M5", "bet", "8", "-8", "0", "0", "44"),
        line(utc(2, 16, 10), 16, "M6", "bonus_forfeit", "44", "0", "-44", "0", "0"),
        line(utc(2, 17, 10), 17, "M7", "adjustment", "15", "15", "0", "15", "0"),
        line(utc(2, 18, 10), 18, "M8", "adjustment", "5", "-5", "0", "10", "0"),
        line(utc(2, 28, 22), 28, "M9", "bet", "3", "-3", "0", "7", "0"),
    ]
    # the game's and the client's references stay with each row; no staff name or reason is in a statement
    assert result["transactions"][1][12:] == ("mt-b1", "mr1", "slots", "", "pragmatic", "")
    credit = ledger.mt.adjustments.order_by("id")[0]
    assert result["transactions"][5][12:] == (f"adjustment:{credit.pk}", "", "", "", "", "")


def test_a_withdrawal_moves_cash_to_pending_and_the_payout_takes_it_away(ledger):
    result = run(player=str(ledger.mt2.pk), start="2026-02-06", end="2026-02-08")  # by the player's id
    assert [(row[3], row[6], row[8], row[9], row[11]) for row in result["transactions"]] == [
        ("withdrawal", D("-20"), D("20"), D("25"), D("20")),
        ("withdrawal_paid", D(0), D("-20"), D("25"), D(0)),
        ("withdrawal", D("-5"), D("5"), D("20"), D("5")),
        ("withdrawal_cancel", D("5"), D("-5"), D("25"), D(0)),
    ]
    assert result["accounts"][2] == ("EUR", "pending_withdrawal", D(0), D("25.00"), D("25.00"), D(0))


def test_the_period_is_of_the_players_local_days(ledger):
    first_of_march = run(player="FL0104", start="2026-03-01", end="2026-03-01")  # Toronto
    assert [(row[0], row[3], row[4]) for row in first_of_march["transactions"]] == [(utc(3, 1, 5, 30), "bet", D("1"))]
    assert first_of_march["accounts"][0] == ("CAD", "cash", D("43.00"), D(0), D("1.00"), D("42.00"))
    assert run(player="FL0104", start="2026-03-02", end="2026-03-31")["transactions"] == []


def test_the_transactions_are_streamed_and_the_same_twice(ledger):
    transactions = tables(player="FL0101", start="2026-01-01", end="2026-03-31")[1]
    assert not isinstance(transactions.rows, list | tuple)
    first = run(player="FL0101", start="2026-01-01", end="2026-03-31")
    assert len(first["transactions"]) == 10  # G1 to G10
    assert first == run(player="FL0101", start="2026-01-01", end="2026-03-31")


def test_an_unknown_or_ambiguous_player_is_refused(ledger):
    values, _texts, errors = STATEMENT.clean({"player": "P9999999", "start": "2026-02-01"}, today=date(2026, 3, 5))
    assert errors == {}
    assert STATEMENT.check(values, None) == {"player": "No player with the id or external id 'P9999999'."}
    with pytest.raises(ReportParamsInvalid) as refused:
        list(STATEMENT.tables(RunContext(), values))
    assert refused.value.code == "report_params_invalid"
    PlayerFactory(external_id=str(ledger.gb.pk))  # another player's external id is gb's id
    values, _texts, _errors = STATEMENT.clean(
        {"player": str(ledger.gb.pk), "start": "2026-02-01"}, today=date(2026, 3, 5)
    )
    assert STATEMENT.check(values, None) == {
        "player": f"'{ledger.gb.pk}' is the id of one player and the external id of another: give the other's id."
    }


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"start": "2026-02-01"}, "player", "This parameter is required."),
        ({"player": "P1"}, "start", "This parameter is required."),
        ({"player": "P 1", "start": "2026-02-01"}, "player", "Give a player code"),
        ({"player": "P1", "start": "2026-02-02", "end": "2026-02-01"}, "end", "The end is before the start."),
    ],
)
def test_it_refuses_parameters_it_cannot_read(raw, field, message):
    _values, _texts, errors = STATEMENT.clean(raw, today=date(2026, 3, 5))
    assert field in errors and errors[field].startswith(message)


def test_it_needs_its_own_permission():
    registered = report_type("player_statement")
    assert isinstance(registered, PlayerStatement) and registered.permission == "reports.run_player_statement"
