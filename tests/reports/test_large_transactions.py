"""large_transactions: the deposits, withdrawal requests and adjustments at or above a threshold, one row each in
time order, streamed; the summary; the parameter errors and determinism (tests/reports/finledger.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from apps.reports.context import RunContext
from apps.reports.definitions.large_transactions import LargeTransactions
from apps.reports.types import report_type
from tests.reports import finledger

D = Decimal
LARGE = LargeTransactions()


def tables(**raw: str):
    values, _texts, errors = LARGE.clean(raw, today=date(2026, 3, 5))
    assert errors == {}
    return list(LARGE.tables(RunContext(), values))


def run(**raw: str) -> dict[str, list[tuple]]:
    return {table.name: [tuple(row) for row in table.rows] for table in tables(**raw)}


@pytest.fixture
def ledger(db):
    return finledger.build()


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 2, day, hour, 0, tzinfo=UTC)


def test_it_lists_each_transaction_at_or_above_the_threshold_in_time_order(ledger):
    ids, mt, mt2 = ledger.transactions, ledger.mt, ledger.mt2
    credit = mt.adjustments.get(amount=D("15.00"))
    result = run(start="2026-02-01", end="2026-02-28", currency="EUR", threshold="15.00")
    assert result["transactions"] == [
        (at(5, 10), date(2026, 2, 5), ids["X1"], "deposit", mt2.pk, "FL0103", "MT", "in", D("40.00"), "EUR", "",
         "", ""),
        (at(6, 10), date(2026, 2, 6), ids["X4"], "withdrawal", mt2.pk, "FL0103", "MT", "out", D("20.00"), "EUR",
         "", "", ""),
        # exactly the threshold is "at or above"; the adjustment's direction is its cash entry's
        (at(17, 10), date(2026, 2, 17), ids["M7"], "adjustment", mt.pk, "FL0102", "MT", "in", D("15.00"), "EUR",
         "", f"adjustment:{credit.pk}", credit.requested_by.username),
    ]  # fmt: skip
    assert result["summary"] == [
        ("adjustment", "in", 1, D("15.00"), D("15.00"), 1, "EUR"),
        ("deposit", "in", 1, D("40.00"), D("40.00"), 1, "EUR"),
        ("withdrawal", "out", 1, D("20.00"), D("20.00"), 1, "EUR"),
    ]


def test_a_lower_threshold_takes_the_debits_and_small_withdrawals_and_never_the_payouts_or_cancels(ledger):
    ids = ledger.transactions
    rows = run(start="2026-02-01", end="2026-02-28", currency="EUR", threshold="5")["transactions"]
    assert [(row[2], row[3], row[7], row[8]) for row in rows] == [
        (ids["X1"], "deposit", "in", D("40.00")),
        (ids["X4"], "withdrawal", "out", D("20.00")),
        (ids["X5"], "withdrawal", "out", D("5.00")),
        (ids["M7"], "adjustment", "in", D("15.00")),
        (ids["M8"], "adjustment", "out", D("5.00")),
    ]


def test_the_period_is_of_local_days_and_the_currency_is_the_reports(ledger):
    assert run(start="2026-01-01", end="2026-01-31", currency="EUR", threshold="20")["transactions"][0][3:9] == (
        "deposit", ledger.mt.pk, "FL0102", "MT", "in", D("20.00"),
    )  # fmt: skip
    gbp = run(start="2026-02-01", end="2026-02-28", currency="GBP", threshold="50.00")["transactions"]
    assert [(row[2], row[3]) for row in gbp] == [(ledger.transactions["G9"], "withdrawal")]
    assert run(start="2026-02-01", end="2026-02-28", currency="USD", threshold="0") == {
        "summary": [],
        "transactions": [],
    }


def test_the_rows_are_streamed_and_the_same_twice(ledger):
    transactions = tables(start="2026-01-01", end="2026-03-31", currency="EUR", threshold="0")[1]
    assert not isinstance(transactions.rows, list | tuple)  # a generator over a server-side cursor
    first = run(start="2026-01-01", end="2026-03-31", currency="EUR", threshold="0")
    assert len(first["transactions"]) == 6  # M1, X1, X4, X5, M7, M8: X4's payout and X5's cancel are not listed
    assert first == run(start="2026-01-01", end="2026-03-31", currency="EUR", threshold="0")


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"start": "2026-02-01", "end": "2026-02-28", "threshold": "100"}, "currency", "This parameter is required."),
        ({"start": "2026-02-01", "end": "2026-02-28", "currency": "EUR"}, "threshold", "This parameter is required."),
        ({"start": "2026-02-01", "end": "2026-02-28", "currency": "EUR", "threshold": "-1"}, "threshold", "Give a"),
        ({"start": "2026-02-01", "end": "2026-02-28", "currency": "EUR", "threshold": "ten"}, "threshold", "Give an"),
        ({"start": "2026-03-01", "end": "2026-02-28", "currency": "EUR", "threshold": "1"}, "end", "The end is before"),
        ({"start": "2025-01-01", "end": "2026-02-28", "currency": "EUR", "threshold": "1"}, "end", "At most 366 days"),
    ],
)
def test_it_refuses_parameters_it_cannot_read(raw, field, message):
    _values, _texts, errors = LARGE.clean(raw, today=date(2026, 3, 5))
    assert field in errors and errors[field].startswith(message)


def test_it_is_registered_for_the_financial_permission():
    registered = report_type("large_transactions")
    assert isinstance(registered, LargeTransactions) and registered.permission == "reports.run_financial"
