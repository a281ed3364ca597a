"""Month-end closes (apps/reports/closes.py): a return reads the same figures from a close as from the ledger (UK
quarterly on the services-built quarter, MGA monthly on the hand-built ledger), reads the close when there is one
(no ledger statement), and falls back to the ledger for an open-bets window the close did not use; the refusals
(not a month's end, not over everywhere, taken already), the audited retake, the write-once lines, what is due and
the beat task, and the command."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEvent
from apps.reports import closes
from apps.reports.context import RunContext
from apps.reports.definitions.mga_monthly import MgaMonthly
from apps.reports.definitions.uk_quarterly import UkQuarterly
from apps.reports.errors import CloseDayNotEnded, CloseExists, CloseNotMonthEnd
from apps.reports.models import AccountsClose, FundsClose, PeriodClose
from apps.reports.tasks import reports_close_months
from tests.reports import finledger
from tests.reports.test_uk_quarterly import build_quarter

pytestmark = pytest.mark.django_db
D = Decimal


def tables(report, today: date, **raw: str) -> tuple[dict[str, list[tuple]], list[str]]:
    values, _texts, errors = report.clean(raw, today=today)
    assert errors == {}
    ctx = RunContext()
    return {t.name: [tuple(row) for row in t.rows] for t in report.tables(ctx, values)}, ctx.lines


def ledger_statements(queries: CaptureQueriesContext) -> list[str]:
    """The statements that read the ledger (entries, transactions) or the player day rollups."""
    tables = ("wallet_entry", "wallet_transaction", "wallet_player_day")
    return [q["sql"] for q in queries.captured_queries if any(table in q["sql"] for table in tables)]


@pytest.fixture
def hand_built(db):
    built = finledger.build()
    finledger.fill_rollups()
    return built


def test_the_uk_return_reads_the_same_figures_from_the_quarters_close(support_agent, finance_officer, mlro):
    build_quarter(support_agent=support_agent, finance_officer=finance_officer, mlro=mlro)
    uk, today = UkQuarterly(), date(2026, 12, 7)
    from_ledger, lines = tables(uk, today, quarter="2026-Q2")
    assert "customer funds and accounts: from the ledger" in lines

    close = closes.close_take(date(2026, 9, 30))
    assert close.quarter_start == date(2026, 7, 1)
    gb = AccountsClose.objects.get(close=close, jurisdiction="GB")
    assert (gb.active, gb.registrations) == (3, 2)  # as test_uk_quarterly counts them
    with CaptureQueriesContext(connection) as queries:
        from_close, lines = tables(uk, today, quarter="2026-Q2")
    assert "customer funds and accounts: from the close" in lines
    assert ledger_statements(queries) == []  # neither the entries nor the player day rollups are read
    assert from_close == from_ledger
    assert from_close["customer_funds"] == [
        ("EUR", D("150.00"), D("0"), D("150.00"), D("0"), 1),
        ("GBP", D("86.00"), D("8.00"), D("94.00"), D("50.00"), 4),
    ]


def test_a_month_end_that_ends_no_quarter_has_no_accounts_and_the_return_reads_them_from_the_ledger(
    support_agent, finance_officer, mlro
):
    build_quarter(support_agent=support_agent, finance_officer=finance_officer, mlro=mlro)
    close = closes.close_take(date(2026, 8, 31))
    assert close.quarter_start is None and not close.accounts.exists()
    figures, source = closes.accounts_at(RunContext(), date(2026, 7, 1), date(2026, 9, 30))
    assert source == "ledger" and (figures["GB"].active, figures["GB"].registrations) == (3, 2)


def test_the_mga_return_reads_the_same_figures_from_the_months_closes(hand_built):
    mga, today = MgaMonthly(), date(2026, 3, 5)
    from_ledger, lines = tables(mga, today, month="2026-02")
    assert "player funds at the end of 2026-01-31: from the ledger" in lines
    closes.close_take(date(2026, 1, 31))
    closes.close_take(date(2026, 2, 28))
    with CaptureQueriesContext(connection) as queries:
        from_close, lines = tables(mga, today, month="2026-02")
    assert [line for line in lines if "from the close" in line] == [
        "player funds at the end of 2026-01-31: from the close",
        "player funds at the end of 2026-02-28: from the close",
        "open bets: from the close",
    ]
    assert ledger_statements(queries) == []
    assert from_close == from_ledger
    assert [row[-1] for row in from_close["reconciliation"]] == [D(0), D(0), D(0)]


def test_an_open_bets_window_the_close_did_not_use_is_read_from_the_ledger(hand_built):
    mga, today = MgaMonthly(), date(2026, 3, 5)
    expected, _ = tables(mga, today, month="2026-02", open_bet_hours="1")
    closes.close_take(date(2026, 2, 28))
    got, lines = tables(mga, today, month="2026-02", open_bet_hours="1")
    assert "open bets: from the ledger" in lines and got == expected


def test_the_close_holds_the_funds_per_jurisdiction_and_currency(hand_built):
    close = closes.close_take(date(2026, 2, 28))
    lines = {(f.jurisdiction, f.currency): f for f in FundsClose.objects.filter(close=close)}
    assert sum((f.cash for f in lines.values() if f.currency == "EUR"), D(0)) == D("32.00")
    assert sum(f.open_bet_count for f in lines.values()) == 2  # Toronto's 23:30 bet and Malta's poker bet
    event = AuditEvent.objects.get(action="report.close_taken")
    assert event.data["day"] == "2026-02-28" and event.data["funds_lines"] == len(lines)


def test_a_day_that_ends_no_month_is_refused(db):
    with pytest.raises(CloseNotMonthEnd) as refused:
        closes.close_take(date(2026, 2, 27))
    assert refused.value.code == "close_not_month_end" and not PeriodClose.objects.exists()


def test_a_month_end_not_over_on_every_clock_is_refused(geo_rules):
    # 31 January ends at 05:00 UTC in Toronto (CA-ON): at 05:05 it is over there, but not the margin after it
    with time_machine.travel(datetime(2026, 2, 1, 5, 5, tzinfo=UTC), tick=False):
        with pytest.raises(CloseDayNotEnded) as refused:
            closes.close_take(date(2026, 1, 31))
        assert refused.value.code == "close_day_not_ended"
        assert closes.ended_everywhere(date(2026, 1, 31)) == datetime(2026, 2, 1, 5, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 2, 1, 5, 11, tzinfo=UTC), tick=False):
        assert closes.close_take(date(2026, 1, 31)).day == date(2026, 1, 31)


def test_a_day_closed_already_is_refused_and_a_retake_replaces_it_audited(hand_built):
    first = closes.close_take(date(2026, 2, 28))
    with pytest.raises(CloseExists) as refused:
        closes.close_take(date(2026, 2, 28))
    assert refused.value.code == "close_exists"
    again = closes.close_take(date(2026, 2, 28), retake=True)
    assert again.pk != first.pk and list(PeriodClose.objects.values_list("pk", flat=True)) == [again.pk]
    assert not FundsClose.objects.filter(close_id=first.pk).exists()
    event = AuditEvent.objects.get(action="report.close_retaken")
    assert event.data["replaced"]["id"] == first.pk


def test_the_lines_take_no_update(hand_built):
    closes.close_take(date(2026, 2, 28))
    for table in ("reports_close_funds", "reports_period_close"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            column = "cash" if table == "reports_close_funds" else "open_bet_hours"
            cursor.execute(f"UPDATE {table} SET {column} = {column} + 1")


def test_the_month_ends_due_are_those_over_and_not_closed_and_the_task_takes_a_few(hand_built):
    now = datetime(2026, 5, 2, 12, 0, tzinfo=UTC)
    # the ledger starts in January 2026
    assert closes.closes_due(now) == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    with time_machine.travel(now, tick=False):
        assert reports_close_months(limit=3) == ["2026-01-31", "2026-02-28", "2026-03-31"]
        assert closes.closes_due() == [date(2026, 4, 30)]
        assert reports_close_months() == ["2026-04-30"]
        assert reports_close_months() == []
    assert closes.closes_due(datetime(2026, 5, 1, 0, 0, tzinfo=UTC)) == []  # April is not over everywhere yet


def test_an_empty_ledger_has_nothing_due(db):
    assert closes.closes_due() == [] and reports_close_months() == []


def test_the_command_takes_what_is_due_or_one_day_and_refuses_what_it_cannot(hand_built):
    out = StringIO()
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        call_command("reports_close", stdout=out)
        assert "Closed 2026-01-31" in out.getvalue() and "2 close(s) taken." in out.getvalue()
        out = StringIO()
        call_command("reports_close", stdout=out)
        assert "Nothing to close" in out.getvalue()
        call_command("reports_close", "--day", "2026-02-28", "--retake", stdout=StringIO())
        with pytest.raises(CommandError, match="close_exists"):
            call_command("reports_close", "--day", "2026-02-28", stdout=StringIO())
        with pytest.raises(CommandError, match="--retake needs --day"):
            call_command("reports_close", "--retake", stdout=StringIO())
        with pytest.raises(CommandError, match="--day"):
            call_command("reports_close", "--day", "February", stdout=StringIO())
    assert AuditEvent.objects.filter(action="report.close_retaken").count() == 1


def test_a_run_begins_no_close_after_its_budget(hand_built):
    with time_machine.travel(datetime(2026, 5, 2, 12, 0, tzinfo=UTC), tick=False):
        # the first close is always taken; with no budget left, no second one is begun
        assert reports_close_months(limit=3, budget_seconds=-1) == ["2026-01-31"]
