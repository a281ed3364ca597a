"""The SLA clock: how much of a case's time counts, when it is due, and the beat job that marks it at risk or
breached and escalates it.

**Working time.** A case's SLA (``SlaPolicy``: by case type and priority, 24/72/168 hours by default, at risk at
75 %) is counted in its inbox's working time, not wall time: the inbox's working hours (``workday_start`` to
``workday_end``, e.g. 09:00-17:30) on its workdays (ISO weekdays, 1 = Monday; none listed means Monday to
Friday), in its own time zone, minus the public holidays of its country and subdivision as the ``holidays``
package knows them (England's bank holidays for ``GB``/``ENG``, substitute days included: Boxing Day 2026 is a
Saturday, so Monday 28 December is off). Each day's hours are read in the inbox's local time and only then turned
into instants, so a day of a DST change still runs from 09:00 to 17:30 on the office clock. A case with no
inbox runs on a plain 24/7 clock (hours are hours).

- ``working_seconds(inbox, start, end)`` counts the working time between two instants, day by day (a span of
  months is a few hundred cheap steps), exact to the second (rounded down).
- ``add_working_time(inbox, start, seconds)`` is its inverse: the instant at which ``seconds`` of working time
  have passed. Started outside hours, the count begins at the next opening; a budget that runs out exactly at
  closing time is due at closing time (Friday 17:30), not at the next opening.
- ``deadlines(...)``: ``due_at`` is the SLA's hours of working time after ``opened_at``, plus the working time the
  case spent waiting (``paused_seconds``); ``at_risk_at`` is the at-risk share of the SLA, plus the same pauses.
  ``time_left(case, now)`` is the working time until ``due_at`` (negative once overdue), for lists and pages.

**Pauses.** Waiting for the player or another team stops the clock (``pause`` notes ``paused_at``); the reply
starts it again (``resume`` adds the *working* time spent waiting to ``paused_seconds`` and moves both deadlines
by it). A case that waited from Friday 16:00 to Monday 10:00 loses 2.5 hours of its budget's wall time, not 66.
Time a case was closed does not count either: reopening adds it the same way (apps/compliance/cases.py).

**States.** ``on_track`` → ``at_risk`` (the at-risk point passed: escalated to the inbox's team lead, level 1) →
``breached`` (the due time passed: escalated to the MLRO, level 2). ``sla_sweep`` moves cases along once a
minute, writing a timeline event in words, an ``escalated`` event when the escalation level rises, and an
audit event (``compliance.case_sla_at_risk`` / ``compliance.case_sla_breached``), each case in its own
transaction and locked with ``SKIP LOCKED`` (a case an analyst is changing right now is taken on the next run);
a second run changes nothing. A case found past both points at once is marked breached only. Waiting cases
are not swept: their clock is stopped. A resumed case whose moved at-risk point is still ahead is on track
again; a breach stays a breach: it is a fact of the case's history (the deadline was missed), and moving the
deadline later by a pause does not undo it.

**Misconfiguration.** An inbox with an unknown time zone counts in UTC and one with an unknown holiday country
counts no holidays (a warning is logged): deadlines come out earlier, never later, and opening a case never
fails on the calendar. ``inbox_calendar_errors`` says what is wrong, for the inbox's admin form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import structlog
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.audit.services import SystemActor, audit_log
from apps.compliance.choices import OPEN_STATES, CaseEventKind, CaseState, Priority, SlaState
from apps.compliance.models import Case, CaseEvent, CaseInbox, SlaPolicy

log = structlog.get_logger(__name__)

DEFAULT_HOURS: dict[str, int] = {Priority.HIGH: 24, Priority.MEDIUM: 72, Priority.LOW: 168}
DEFAULT_AT_RISK_PERCENT = 75
DEFAULT_WORKDAYS = frozenset({1, 2, 3, 4, 5})
# Cases whose clock runs: open and not waiting for an answer.
RUNNING_STATES = tuple(s for s in OPEN_STATES if s != CaseState.WAITING)
SWEEP_ACTOR = SystemActor("compliance SLA sweep")
# No calendar has this many days in a row without working time; past it the inbox's week is empty.
MAX_IDLE_DAYS = 400
SECOND = timedelta(seconds=1)


# --- the calendar ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _public_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    """One year of a country's (and subdivision's) public holidays, observed days included, as plain dates."""
    if not country:
        return frozenset()
    try:
        found = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        log.warning("sla_unknown_holiday_calendar", country=country, subdivision=subdivision)
        return frozenset()
    return frozenset(found)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("sla_unknown_time_zone", time_zone=name)
        return ZoneInfo("UTC")


def _workdays(value: Any) -> frozenset[int]:
    days = frozenset(int(d) for d in (value or ()) if str(d).isdigit() and 1 <= int(d) <= 7)
    return days or DEFAULT_WORKDAYS


@dataclass(frozen=True)
class _Hours:
    """An inbox's calendar: which local days are worked, and from when to when on the office clock."""

    zone: ZoneInfo
    opens: time
    closes: time
    workdays: frozenset[int]
    country: str
    subdivision: str

    @classmethod
    def of(cls, inbox: CaseInbox) -> _Hours:
        return cls(
            zone=_zone(inbox.time_zone or "UTC"),
            opens=inbox.workday_start,
            closes=inbox.workday_end,
            workdays=_workdays(inbox.workdays),
            country=(inbox.holiday_country or "").upper(),
            subdivision=(inbox.holiday_subdivision or "").upper(),
        )

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def shift(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's working hours as two UTC instants, or None on a day off. Built from the local wall clock
        (so 09:00 is 09:00 whether the day is in GMT or BST, and a DST day is as long as its hours say)."""
        if day.isoweekday() not in self.workdays or day in _public_holidays(self.country, self.subdivision, day.year):
            return None
        opens, closes = _instant(day, self.opens, self.zone), _instant(day, self.closes, self.zone)
        return (opens, closes) if opens < closes else None


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the office clock reads ``wall`` or later on ``day``: in the autumn the
    first of the two readings; in the spring, a reading the clock skips is reached at the jump itself."""
    at = datetime.combine(day, wall, zone)  # fold=0: the earlier reading of an hour that repeats
    instant = at.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == at.replace(tzinfo=None):
        return instant
    # Skipped: the jump lies between the reading on the old offset (fold=1 is earlier) and on the new one.
    before = at.replace(fold=1).astimezone(UTC)
    offset = instant.astimezone(zone).utcoffset()
    low, high = 0, (instant - before) // SECOND  # whole seconds after ``before``: low on the old offset
    while high - low > 1:
        middle = (low + high) // 2
        if (before + middle * SECOND).astimezone(zone).utcoffset() == offset:
            high = middle
        else:
            low = middle
    return before + high * SECOND


def inbox_calendar_errors(inbox: CaseInbox) -> dict[str, str]:
    """What is wrong with an inbox's calendar, by field (empty when nothing is): for its admin form."""
    errors: dict[str, str] = {}
    try:
        ZoneInfo(inbox.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = f"Unknown time zone {inbox.time_zone!r} (an IANA name such as Europe/London)."
    if inbox.holiday_country:
        try:
            holidays.country_holidays(inbox.holiday_country.upper(), subdiv=inbox.holiday_subdivision.upper() or None)
        except NotImplementedError:
            field = "holiday_subdivision" if inbox.holiday_subdivision else "holiday_country"
            errors[field] = "The holidays package has no public holidays for this country or subdivision."
    bad = [d for d in (inbox.workdays or []) if not (str(d).isdigit() and 1 <= int(d) <= 7)]
    if bad:
        errors["workdays"] = "Workdays are ISO weekdays, 1 (Monday) to 7 (Sunday)."
    if inbox.workday_start >= inbox.workday_end:
        errors["workday_end"] = "The working day ends after it starts (no overnight hours)."
    return errors


# --- working time ----------------------------------------------------------------------------------------------


def _worked(hours: _Hours, start: datetime, end: datetime) -> timedelta:
    total = timedelta(0)
    day, last = hours.local_date(start), hours.local_date(end)
    while day <= last:
        shift = hours.shift(day)
        if shift is not None:
            begin, finish = max(shift[0], start), min(shift[1], end)
            if begin < finish:
                total += finish - begin
        day += timedelta(days=1)
    return total


def working_seconds(inbox: CaseInbox | None, start: datetime, end: datetime) -> int:
    """The inbox's working time from ``start`` to ``end`` (aware datetimes), in whole seconds; 0 if ``end`` is
    not after ``start``. Without an inbox every second counts."""
    if end <= start:
        return 0
    if inbox is None:
        return (end - start) // SECOND
    return _worked(_Hours.of(inbox), start, end) // SECOND


def add_working_time(inbox: CaseInbox | None, start: datetime, seconds: int) -> datetime:
    """The instant at which ``seconds`` of the inbox's working time have passed since ``start`` (a UTC datetime).
    Outside hours the count starts at the next opening; a budget ending exactly at closing time ends there."""
    if seconds <= 0:
        return start
    if inbox is None:
        return start + timedelta(seconds=seconds)
    hours = _Hours.of(inbox)
    left = timedelta(seconds=seconds)
    day, idle = hours.local_date(start), 0
    while True:
        shift = hours.shift(day)
        if shift is not None and shift[1] > start:
            begin = max(shift[0], start)
            available = shift[1] - begin
            if left <= available:
                return (begin + left).astimezone(UTC)
            left -= available
            idle = 0
        else:
            idle += 1
            if idle > MAX_IDLE_DAYS:
                raise ValueError(f"inbox {inbox.pk} has no working time in {MAX_IDLE_DAYS} days")
        day += timedelta(days=1)


def deadlines(
    inbox: CaseInbox | None, *, opened_at: datetime, hours: int, at_risk_percent: int, paused_seconds: int = 0
) -> tuple[datetime, datetime]:
    """(at_risk_at, due_at): the at-risk share and the whole of ``hours`` of working time after ``opened_at``,
    each moved later by the working time spent waiting."""
    budget = hours * 3600
    at_risk = budget * at_risk_percent // 100  # exact: 36 * percent seconds per hour
    return (
        add_working_time(inbox, opened_at, at_risk + paused_seconds),
        add_working_time(inbox, opened_at, budget + paused_seconds),
    )


def policy_for(case_type: str, priority: str) -> tuple[int, int]:
    """(hours, at_risk_percent) of the SLA policy for the type and priority; the defaults (24/72/168 hours by
    priority, at risk at 75 %) where no row says otherwise."""
    row = SlaPolicy.objects.filter(case_type=case_type, priority=priority).values_list("hours", "at_risk_percent")
    found = row.first()
    if found is not None:
        return found[0], found[1]
    return DEFAULT_HOURS.get(priority, DEFAULT_HOURS[Priority.MEDIUM]), DEFAULT_AT_RISK_PERCENT


def time_left(case: Case, now: datetime) -> int:
    """Working seconds until the case is due (negative once overdue), for lists and the case page. A waiting
    case's clock is stopped at ``paused_at``."""
    at = case.paused_at or now
    if at <= case.due_at:
        return working_seconds(case.inbox, at, case.due_at)
    return -working_seconds(case.inbox, case.due_at, at)


# --- pauses ----------------------------------------------------------------------------------------------------


def pause(case: Case, now: datetime) -> None:
    """Stop the clock (on the instance; the caller saves it with the state ``waiting``). Already stopped: no-op."""
    if case.paused_at is None:
        case.paused_at = now


def resume(case: Case, now: datetime) -> None:
    """Start the clock again (on the instance; the caller saves): the working time spent waiting is added to
    ``paused_seconds`` and both deadlines move by it (the case keeps its own ``sla_hours``; the at-risk share is
    its policy's). An at-risk case whose at-risk point is now ahead again is on track; a breached case stays
    breached (a breach is history). Not paused: no-op."""
    if case.paused_at is None:
        return
    case.paused_seconds += working_seconds(case.inbox, case.paused_at, now)
    case.paused_at = None
    _, percent = policy_for(case.type, case.priority)
    case.at_risk_at, case.due_at = deadlines(
        case.inbox,
        opened_at=case.opened_at,
        hours=case.sla_hours,
        at_risk_percent=percent,
        paused_seconds=case.paused_seconds,
    )
    if case.sla_state == SlaState.AT_RISK and now < case.at_risk_at:
        case.sla_state = SlaState.ON_TRACK


# --- the sweep -------------------------------------------------------------------------------------------------


def _running() -> QuerySet[Case]:
    # state IN (open states but waiting) implies the predicate of compliance_case_open_idx, so it is used.
    return Case.objects.filter(state__in=RUNNING_STATES, paused_at__isnull=True)


def _local(inbox: CaseInbox | None, instant: datetime) -> str:
    zone = _Hours.of(inbox).zone if inbox is not None else ZoneInfo("UTC")
    at = instant.astimezone(zone)
    return f"{at:%A} {at.day} {at:%B %Y} at {at:%H:%M} ({zone.key})"


def _hours_text(hours: int) -> str:
    return f"{hours} working hour{'s' if hours != 1 else ''}"


def _move(case: Case, now: datetime, *, to: str, level: int, text: str) -> None:
    """Record one move along the SLA states on the locked case: its fields, the timeline, the audit trail."""
    old, old_level = case.sla_state, case.escalation_level
    case.sla_state = to
    case.escalation_level = max(old_level, level)
    case.save(update_fields=["sla_state", "escalation_level", "updated_at"])
    clock = {"at_risk_at": case.at_risk_at.isoformat(), "due_at": case.due_at.isoformat(), "hours": case.sla_hours}
    CaseEvent.objects.create(
        case=case, at=now, kind=CaseEventKind.SLA, text=text, data={"from": old, "to": to, **clock}
    )
    escalated: dict[str, Any] = {}
    if case.escalation_level > old_level:
        inbox = case.inbox
        if level == 2:
            escalated = {"to": "MLRO"}
            CaseEvent.objects.create(
                case=case, at=now, kind=CaseEventKind.ESCALATED, text="Escalated to the MLRO", data=escalated
            )
        elif inbox is not None and inbox.lead_id is not None:
            escalated = {"to": "team lead", "lead_id": inbox.lead_id}
            CaseEvent.objects.create(
                case=case,
                at=now,
                kind=CaseEventKind.ESCALATED,
                text=f"Escalated to the team lead, {inbox.lead}",
                data=escalated,
            )
    audit_log(
        actor=SWEEP_ACTOR,
        action=f"compliance.case_sla_{to}",
        target=case,
        data={
            "case": case.pk,
            "type": case.type,
            "state": case.state,
            "visibility": "compliance",
            "sla_from": old,
            "sla_state": to,
            "escalation_level": case.escalation_level,
            "escalated_to": escalated.get("to", ""),
            **clock,
        },
    )


def _breach(pk: int, now: datetime) -> bool:
    with transaction.atomic():
        case = (
            _running()
            .select_for_update(skip_locked=True)
            .filter(pk=pk, due_at__lte=now, sla_state__in=(SlaState.ON_TRACK, SlaState.AT_RISK))
            .first()
        )
        if case is None:  # taken by someone else, or no longer due
            return False
        text = f"Breached: the {_hours_text(case.sla_hours)} ran out on {_local(case.inbox, case.due_at)}."
        _move(case, now, to=SlaState.BREACHED, level=2, text=text)
        return True


def _at_risk(pk: int, now: datetime) -> bool:
    with transaction.atomic():
        case = (
            _running()
            .select_for_update(skip_locked=True)
            .filter(pk=pk, at_risk_at__lte=now, due_at__gt=now, sla_state=SlaState.ON_TRACK)
            .first()
        )
        if case is None:
            return False
        used = working_seconds(case.inbox, case.opened_at, now) - case.paused_seconds
        percent = min(99, 100 * used // (case.sla_hours * 3600))
        text = f"At risk: {percent}% of the {_hours_text(case.sla_hours)} used; due {_local(case.inbox, case.due_at)}."
        _move(case, now, to=SlaState.AT_RISK, level=1, text=text)
        return True


def sla_sweep(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Beat, every minute: running cases past their due time are breached (escalated to the MLRO), those past
    their at-risk point are at risk (escalated to the inbox's lead). Up to ``batch`` of each per run, oldest
    first; each case in its own transaction, skipped if locked. Idempotent. Returns how many moved."""
    now = now or timezone.now()
    due = (
        _running()
        .filter(due_at__lte=now, sla_state__in=(SlaState.ON_TRACK, SlaState.AT_RISK))
        .order_by("due_at")
        .values_list("pk", flat=True)[:batch]
    )
    breached = sum(_breach(pk, now) for pk in list(due))
    risky = (
        _running()
        .filter(at_risk_at__lte=now, due_at__gt=now, sla_state=SlaState.ON_TRACK)
        .order_by("at_risk_at")
        .values_list("pk", flat=True)[:batch]
    )
    at_risk = sum(_at_risk(pk, now) for pk in list(risky))
    return {"at_risk": at_risk, "breached": breached}
