"""Report schedules: django-celery-beat entries that ask for a run (``report_scheduled``), declared in code by the
report types (``ScheduleSpec``) and installed by ``manage.py install_schedule``, or made by staff on the
"Schedule a report" page; staff may retime, pause or delete either in the admin. A run missed while beat or the
machine was down is caught up (``catch_up``, hourly). Due dates: ``calendar``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from apps.audit.services import SYSTEM, audit_log
from apps.reports.errors import ReportParamsInvalid
from apps.reports.models import ReportRun, RunState
from apps.reports.types import (
    Period,
    ReportType,
    previous_month,
    previous_uk_quarter,
    report_type,
    report_types,
    yesterday,
)
from backoffice.schedule import ScheduledTask

TASK = "apps.reports.tasks.report_scheduled"
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


PERIOD_DEFAULTS = {"month": previous_month, "quarter": previous_uk_quarter, "day": yesterday}


def with_periods(kind: ReportType, given: dict[str, str], today: date) -> dict[str, str]:
    """A schedule's parameters when it fires: a period parameter left out (month, quarter, day without a default
    of its own) is the period that has just ended (the previous month, UK quarter, day)."""
    filled = dict(given)
    for param in kind.params:
        if str(filled.get(param.name) or "").strip() or param.default_for(today) is not None:
            continue
        if param.kind in PERIOD_DEFAULTS and param.required:
            filled[param.name] = PERIOD_DEFAULTS[param.kind](today)
    return filled


def entry_name(kind: ReportType, name: str) -> str:
    return f"Report: {kind.title} ({name})"


def declared() -> list[ScheduledTask]:
    """Every report type's declared schedules as beat entries (the schedule provider ``install_schedule`` reads)."""
    entries = []
    for kind in report_types().values():
        for spec in kind.schedules:
            name = entry_name(kind, spec.name)
            entries.append(
                ScheduledTask(
                    name=name,
                    task=TASK,
                    crontab=" ".join(spec.crontab.get(part, "*") for part in CRON_FIELDS),
                    queue="reports",
                    kwargs={"report": kind.code, "format": spec.format, "params": dict(spec.params), "schedule": name},
                    description=f"{kind.title}: {kind.description}".strip()[:500],
                )
            )
    return entries


def schedule_create(
    *, actor: Any, report: str, format: str, params: dict[str, str], crontab: dict[str, str], name: str = ""
) -> PeriodicTask:
    """Staff's own schedule (reports.schedule_report and the report's permission): the parameters are checked now
    (those left empty take their default when it fires: the previous month), the timing is a crontab."""
    from apps.reports.runs import _type_for

    if not actor.has_perm("reports.schedule_report"):
        from apps.reports.errors import ReportNotPermitted

        raise ReportNotPermitted("You may not schedule reports.")
    kind = _type_for(actor, report)
    errors: dict[str, str] = {}
    if format not in kind.formats:
        errors["format"] = f"{kind.title} is offered as {', '.join(kind.formats)}."
    given = {key: value for key, value in params.items() if str(value).strip()}
    _values, texts, param_errors = kind.clean(
        with_periods(kind, given, timezone.localdate()), today=timezone.localdate()
    )
    errors.update(param_errors)
    cron = {part: str(crontab.get(part, "*")).strip() or "*" for part in CRON_FIELDS}
    for part, value in cron.items():
        if len(value) > 60 or not all(ch in "0123456789*/,-" for ch in value):
            errors[part] = "Use crontab syntax: digits, *, /, - and commas."
    title = (name or "").strip()[:120] or f"{kind.title}, {format}, by {actor.get_username()}"
    full_name = entry_name(kind, title)
    if PeriodicTask.objects.filter(name=full_name).exists():
        errors["name"] = "A schedule of that name exists."
    if errors:
        raise ReportParamsInvalid("Check the schedule.", fields=errors)
    kept = {key: texts[key] for key in given if key in texts}
    with transaction.atomic():
        schedule, _ = CrontabSchedule.objects.get_or_create(**cron, timezone=timezone.get_current_timezone_name())
        task = PeriodicTask.objects.create(
            name=full_name,
            task=TASK,
            queue="reports",
            crontab=schedule,
            kwargs=json.dumps(
                {"report": kind.code, "format": format, "params": kept, "schedule": full_name}, sort_keys=True
            ),
            description=f"Made by {actor.get_username()}.",
        )
        audit_log(
            actor=actor,
            action="report.scheduled",
            target=task,
            data={"report": kind.code, "format": format, "params": kept, "crontab": cron},
        )
    return task


def scheduled_tasks() -> list[PeriodicTask]:
    return list(PeriodicTask.objects.filter(task=TASK).select_related("crontab").order_by("name"))


def _kwargs(task: PeriodicTask) -> dict[str, Any]:
    try:
        value = json.loads(task.kwargs or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def catch_up(*, today: date | None = None) -> list[int]:
    """Hourly: for each enabled schedule of a report with a due date, the last period that ended before
    yesterday must have a run from a schedule (queued, running or succeeded); if none, one is asked now (beat or
    the machine was down when it should have fired). The runs asked."""
    from apps.reports.runs import run_request

    today = today or timezone.localdate()
    asked: list[int] = []
    for task in scheduled_tasks():
        if not task.enabled:
            continue
        kwargs = _kwargs(task)
        kind = report_type(str(kwargs.get("report", "")))
        if kind is None or kind.due is None:
            continue
        param = kind.due.param
        given = dict(kwargs.get("params") or {})
        if param in given:
            continue  # a schedule for one fixed period: nothing to catch up
        period = _last_closed(kind, today)
        if period is None:
            continue
        text = kind.due.period_text(period)
        exists = ReportRun.objects.filter(
            report=kind.code,
            format=kwargs.get("format", "csv"),
            state__in=(RunState.QUEUED, RunState.RUNNING, RunState.SUCCEEDED),
            **{f"params__{param}": text},
        ).exists()
        if exists:
            continue
        try:
            run = run_request(
                actor=None,
                report=kind.code,
                params={**given, param: text},
                format=str(kwargs.get("format", "csv")),
                source="schedule",
                schedule=f"{task.name} (caught up)",
                today=today,
            )
        except ReportParamsInvalid as exc:
            audit_log(actor=SYSTEM, action="report.schedule_invalid", target=task, data={"fields": exc.fields})
            continue
        asked.append(run.pk)
    return asked


def _last_closed(kind: ReportType, today: date) -> Period | None:
    assert kind.due is not None
    periods = kind.due.periods(today - timedelta(days=400), today - timedelta(days=1))
    return periods[-1] if periods else None


@dataclass(frozen=True)
class DueItem:
    report: ReportType
    period: Period
    period_text: str
    due: date
    status: str  # filed, ready, running, due, late, open (the period has not ended)
    run: ReportRun | None
    today: date

    @property
    def when(self) -> str:
        """The due date in words from today: "in 5 days", "today", "23 days late" (a filed period says nothing)."""
        days = (self.due - self.today).days
        if self.status == "filed":
            return ""
        if days == 0:
            return "due today"
        if days > 0:
            return f"in {days} day{'s' if days != 1 else ''}"
        return f"{-days} day{'s' if days != -1 else ''} late" if self.status == "late" else ""


def first_activity() -> date | None:
    """The local day of the ledger's first transaction (one index read): periods before it owe no report."""
    from apps.wallet.models import LedgerTransaction

    first = LedgerTransaction.objects.order_by("id").values_list("created_at", flat=True).first()
    return timezone.localdate(first) if first is not None else None


def calendar(*, user: Any, today: date | None = None, months: int = 13) -> list[DueItem]:
    """The regulatory due dates of the reports ``user`` may run, for the periods that ended in the last
    ``months`` months and the one in progress: filed (a run of the period was marked filed), ready (a run
    succeeded, not filed yet), running, due (not yet past its date) or late (past it, not filed). Newest first."""
    from apps.reports.runs import runnable_types

    today = today or timezone.localdate()
    items: list[DueItem] = []
    kinds = [kind for kind in runnable_types(user).values() if kind.due is not None]
    # Two statements whatever the data (the start page counts on it): the ledger's first day and the runs of these
    # reports asked in the window, sorted out per period below.
    started = first_activity()
    window = timezone.make_aware(datetime.combine(today - timedelta(days=31 * months + 62), time.min))
    runs: dict[tuple[str, str], list[ReportRun]] = {}
    for found in ReportRun.objects.filter(report__in=[kind.code for kind in kinds], queued_at__gte=window).order_by(
        "-queued_at"
    ):
        kind_of = report_type(found.report)
        if kind_of is not None and kind_of.due is not None:
            runs.setdefault((found.report, str(found.params.get(kind_of.due.param))), []).append(found)
    if started is None:
        return items  # no ledger yet: nothing is owed
    for kind in kinds:
        assert kind.due is not None
        first = max(today - timedelta(days=31 * months), started)
        periods = kind.due.periods(first, today + timedelta(days=200))
        periods = [period for period in periods if period.start <= today]
        texts = [kind.due.period_text(period) for period in periods]
        for period, text in zip(periods, texts, strict=True):
            due = kind.due.due_date(period)
            mine = runs.get((kind.code, text), [])
            filed = next((r for r in mine if r.filed_at is not None), None)
            done = next((r for r in mine if r.state == RunState.SUCCEEDED), None)
            active = next((r for r in mine if r.state in (RunState.QUEUED, RunState.RUNNING)), None)
            run: ReportRun | None
            if filed is not None:
                status, run = "filed", filed
            elif period.end >= today:
                status, run = "open", done or active
            elif today > due:
                status, run = "late", done or active
            elif done is not None:
                status, run = "ready", done
            elif active is not None:
                status, run = "running", active
            else:
                status, run = "due", None
            items.append(DueItem(kind, period, text, due, status, run, today))
    items.sort(key=lambda item: (item.due, item.report.code), reverse=True)
    return items


def schedule_set_enabled(*, actor: Any, task: PeriodicTask, enabled: bool) -> PeriodicTask:
    """Pause or resume a report schedule (reports.schedule_report; the admin checks the report's permission)."""
    _require_scheduler(actor)
    with transaction.atomic():
        task.enabled = enabled
        task.save(update_fields=["enabled"])
        audit_log(actor=actor, action="report.schedule_resumed" if enabled else "report.schedule_paused", target=task)
    return task


def schedule_delete(*, actor: Any, task: PeriodicTask) -> None:
    """Delete a report schedule. A schedule declared in code comes back at the next ``install_schedule`` (paused it
    stays: pause it instead)."""
    _require_scheduler(actor)
    with transaction.atomic():
        audit_log(actor=actor, action="report.schedule_deleted", target=task, data={"name": task.name})
        task.delete()


def _require_scheduler(actor: Any) -> None:
    if not actor.has_perm("reports.schedule_report"):
        from apps.reports.errors import ReportNotPermitted

        raise ReportNotPermitted("You may not change report schedules.")
