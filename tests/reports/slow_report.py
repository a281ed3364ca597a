"""A report that takes its time, for the killed-worker test (tests/reports/test_killed_worker.py): imported by the
Celery worker the test starts (``-I tests.reports.slow_report``) and by the test itself. Its first run makes
``SLOW_REPORT_MARKER`` and then steps slowly (20 x 0.5 s, progress after each, so the run's heartbeat is seen); once
the marker exists, it runs at once. Its figures are real: deposits by currency from the ledger."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from apps.reports import types
from apps.reports.context import RunContext
from apps.reports.types import Column, Param, ReportType, Table


class SlowDeposits(ReportType):
    code = "test_slow_deposits"
    title = "Deposits by currency (slow, test)"
    params = (Param("month", "month"),)
    formats = ("csv",)
    permission = "reports.run_financial"

    def tables(self, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        marker = Path(os.environ.get("SLOW_REPORT_MARKER", "/nonexistent/marker"))
        first = not marker.exists()
        if first and marker.parent.exists():
            marker.write_text(str(os.getpid()))
        steps = 20 if first else 1
        for step in range(steps):
            ctx.one("SELECT pg_sleep(0.5)" if first else "SELECT 1")
            ctx.progress(step + 1, steps + 1)
        rows = ctx.all(
            "SELECT currency, count(*), sum(amount) FROM wallet_transaction WHERE type = 'deposit'"
            " GROUP BY 1 ORDER BY 1"
        )
        yield Table(
            "totals",
            "Deposits",
            (
                Column("currency", "Currency"),
                Column("count", "Deposits", "int"),
                Column("amount", "Amount", "money", currency="currency"),
            ),
            rows,
        )


if types.report_type(SlowDeposits.code) is None:
    types.register(SlowDeposits())
