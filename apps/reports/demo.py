"""Demo reports for ``make run``: the demo ledger's postings summed into the operator day rollups at once (the
dashboard's charts have their figures before the first beat drain), the month-end closes that are due, and the
regulatory returns of the last closed periods asked for through their installed schedules (``schedules.catch_up``:
the MGA monthly return, the UK quarterly return), which the worker then writes: Finance finds them on the report
runs page and the due-date calendar. Idempotent: once any run exists, nothing more is asked."""

from __future__ import annotations

from apps.audit.services import AuditActor


def seed(*, actor: AuditActor | None, count: int | None) -> list[str]:
    from apps.reports import closes, rollups, schedules
    from apps.reports.models import ReportRun

    summed = rollups.drain(budget_seconds=120).processed
    closed = closes.close_due(limit=24, budget_seconds=60)  # the returns asked for below read them
    done = f"reports: {summed} postings added to the rollups, {len(closed)} month-end closes taken"
    if ReportRun.objects.exists():
        return [f"{done}; runs already there"]
    asked = schedules.catch_up()
    return [f"{done}; {len(asked)} regulatory returns asked for"]
