"""Fixtures of the report-run tests (tests/reports/test_runs.py, test_admin.py): a small real report type registered
for the test, and a ledger of four deposits around a month's end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from apps.reports import types
from apps.reports.context import RunContext
from apps.reports.types import Column, Due, Param, ReportType, Table
from apps.wallet import posting
from tests.factories import PlayerFactory

D = Decimal


class DepositsByDay(ReportType):
    """A small real report: deposits per local UTC day and currency of a month, from the ledger."""

    code = "test_deposits"
    title = "Deposits by day (test)"
    params = (
        Param("month", "month"),
        Param("currency", "currency", required=False),
        Param("include_secret", "bool", required=False, default="no"),
    )
    formats = ("csv", "xlsx", "pdf")
    permission = "reports.run_financial"
    due = Due("monthly", "month", day=20, regulator="test")

    def tables(self, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        period = params["month"]
        columns = (
            Column("day", "Day", "date"),
            Column("currency", "Currency"),
            Column("count", "Deposits", "int"),
            Column("amount", "Amount", "money", currency="currency"),
        )
        ctx.progress(0, 2)
        sql = (
            "SELECT (created_at AT TIME ZONE 'UTC')::date AS day, currency, count(*), sum(amount)"
            " FROM wallet_transaction WHERE type = 'deposit' AND created_at >= %s AND created_at < %s"
            " AND (%s::text IS NULL OR currency = %s) GROUP BY 1, 2 ORDER BY 1, 2"
        )
        start = datetime.combine(period.start, datetime.min.time(), tzinfo=UTC)
        end = datetime.combine(period.end + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        yield Table(
            "by_day", "Deposits by day", columns, ctx.stream(sql, [start, end, params["currency"], params["currency"]])
        )
        ctx.progress(1, 2)
        total = ctx.all(
            "SELECT currency, count(*), sum(amount) FROM wallet_transaction WHERE type = 'deposit'"
            " AND created_at >= %s AND created_at < %s GROUP BY 1 ORDER BY 1",
            [start, end],
        )
        yield Table(
            "totals",
            "Totals",
            (
                Column("currency", "Currency"),
                Column("count", "Deposits", "int"),
                Column("amount", "Amount", "money", currency="currency"),
            ),
            total,
        )

    def download_permissions(self, params: dict[str, Any]) -> tuple[str, ...]:
        return (self.permission, "sars.view_sar") if params.get("include_secret") else (self.permission,)


@pytest.fixture
def deposits_report(settings: Any, tmp_path: Any) -> Iterator[ReportType]:
    settings.REPORTS_FILES_ROOT = str(tmp_path / "reports")
    kind = types.register(DepositsByDay())
    yield kind
    types._TYPES.pop(kind.code, None)


@pytest.fixture
def ledger(transactional_db: Any) -> list[Any]:
    """Deposits on 30 and 31 March and 1 April 2026 (UTC), in GBP and EUR."""
    gb = PlayerFactory(country="GB", currency="GBP")
    de = PlayerFactory(country="DE", currency="EUR")
    posted = []
    for when, player, amount in (
        (datetime(2026, 3, 30, 10, tzinfo=UTC), gb, "100.00"),
        (datetime(2026, 3, 31, 23, 59, tzinfo=UTC), gb, "25.50"),
        (datetime(2026, 3, 31, 12, tzinfo=UTC), de, "40.00"),
        (datetime(2026, 4, 1, 0, 1, tzinfo=UTC), gb, "7.00"),
    ):
        with time_machine.travel(when, tick=False):
            posted.append(posting.wallet_deposit(player=player, amount=D(amount), currency=player.currency))
    return [gb, de]
