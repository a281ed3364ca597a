"""The reports' work queues on the start page (apps.core.workqueues), registered from ``ReportsConfig.ready``: the
regulatory returns past their due date and not filed, and those ready to be filed (a run succeeded), for whoever
may run them (the due-date calendar's own figures: one read of the ledger's first row and one of the runs per
report type)."""

from __future__ import annotations

from typing import Any

from apps.core.workqueues import register_queue

CALENDAR = "admin:reports_reportrun_calendar"
SECTION = "Reports"


def _count(user: Any, status: str) -> int | None:
    from apps.reports.schedules import calendar

    items = getattr(user, "_reports_calendar", None)  # both queues of one page read the calendar once
    if items is None:
        items = calendar(user=user)
        user._reports_calendar = items
    found = sum(1 for item in items if item.status == status)
    return found or None  # nothing to do: no tile


def returns_late(user: Any) -> int | None:
    return _count(user, "late")


def returns_ready(user: Any) -> int | None:
    return _count(user, "ready")


def register() -> None:
    register_queue(
        "reports.returns_late",
        "Regulatory returns late",
        count=returns_late,
        url=CALENDAR,
        permission="reports.run_regulatory",
        section=SECTION,
        help="Past their due date and not recorded as filed with the regulator.",
        order=70,
    )
    register_queue(
        "reports.returns_ready",
        "Regulatory returns ready to file",
        count=returns_ready,
        url=CALENDAR,
        permission="reports.run_regulatory",
        section=SECTION,
        help="Run and due soon: send the file and mark it filed on its run's page.",
        order=71,
    )
