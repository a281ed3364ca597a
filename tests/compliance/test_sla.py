"""The SLA clock (apps/compliance/sla.py): working time over weekends, English bank holidays and DST changes,
its inverse, pauses, the 24/7 clock of a case without an inbox, policies, and the sweep's at-risk and breach
moves with their timeline and audit events. Every instant is written out; nothing waits for the wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.audit.models import AuditEvent
from apps.compliance import cases, sla
from apps.compliance.choices import CaseEventKind, CaseState, CaseType, Priority, SlaState
from apps.compliance.models import Case, CaseEvent, CaseInbox, SlaPolicy
from apps.staff import roles
from tests.factories import PlayerFactory, StaffUserFactory

LONDON = ZoneInfo("Europe/London")
HOUR = 3600


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def office(**changes: Any) -> CaseInbox:
    """An unsaved inbox: London, England's bank holidays, 09:00-17:30 Monday to Friday unless told otherwise."""
    fields: dict[str, Any] = {
        "name": "SLA office",
        "time_zone": "Europe/London",
        "holiday_country": "GB",
        "holiday_subdivision": "ENG",
        "workday_start": time(9, 0),
        "workday_end": time(17, 30),
        "workdays": [1, 2, 3, 4, 5],
    }
    return CaseInbox(**{**fields, **changes})


OFFICE = office()


# --- working time ----------------------------------------------------------------------------------------------


def test_it_carries_working_time_over_a_weekend():
    friday = london(2026, 12, 4, 16, 0)
    assert sla.add_working_time(OFFICE, friday, 4 * HOUR) == london(2026, 12, 7, 11, 30)
    assert sla.working_seconds(OFFICE, friday, london(2026, 12, 7, 11, 30)) == 4 * HOUR
    assert sla.working_seconds(OFFICE, london(2026, 12, 5, 0, 0), london(2026, 12, 7, 0, 0)) == 0


def test_a_budget_running_out_at_closing_time_is_due_at_closing_time():
    assert sla.add_working_time(OFFICE, london(2026, 12, 4, 9, 0), int(8.5 * HOUR)) == london(2026, 12, 4, 17, 30)


def test_it_skips_english_bank_holidays_substitute_days_included():
    # Christmas Day is a Friday, Boxing Day a Saturday: its substitute, Monday 28 December, is off too.
    assert sla.add_working_time(OFFICE, london(2026, 12, 24, 16, 0), 4 * HOUR) == london(2026, 12, 29, 11, 30)
    assert sla.working_seconds(OFFICE, london(2026, 12, 24, 0, 0), london(2026, 12, 30, 0, 0)) == 17 * HOUR
    # New Year's Day 2027 is a Friday.
    assert sla.add_working_time(OFFICE, london(2026, 12, 31, 16, 0), 4 * HOUR) == london(2027, 1, 4, 11, 30)


def test_the_holidays_are_the_inboxes_subdivisions():
    # Scotland keeps 2 January, a Saturday in 2027, on Monday 4 January; England works that day.
    scotland = office(holiday_subdivision="SCT")
    new_year = london(2026, 12, 31, 17, 0)
    assert sla.add_working_time(OFFICE, new_year, HOUR) == london(2027, 1, 4, 9, 30)
    assert sla.add_working_time(scotland, new_year, HOUR) == london(2027, 1, 5, 9, 30)
    no_holidays = office(holiday_country="")
    assert sla.add_working_time(no_holidays, london(2026, 12, 24, 17, 0), HOUR) == london(2026, 12, 25, 9, 30)


def test_it_counts_office_hours_across_the_spring_and_autumn_clock_changes():
    # Sunday 29 March 2026 and Sunday 25 October 2026: 09:00 is 09:00 on the office clock either side.
    friday, monday = london(2026, 3, 27, 17, 0), london(2026, 3, 30, 10, 0)
    assert friday.utcoffset() == timedelta(0) and monday.utcoffset() == timedelta(hours=1)
    assert sla.working_seconds(OFFICE, friday, monday) == int(1.5 * HOUR)
    assert sla.add_working_time(OFFICE, friday, HOUR) == datetime(2026, 3, 30, 8, 30, tzinfo=UTC)
    assert sla.add_working_time(OFFICE, london(2026, 10, 23, 17, 0), HOUR) == datetime(2026, 10, 26, 9, 30, tzinfo=UTC)


def test_a_day_of_the_clock_change_lasts_what_the_office_clock_says():
    # Hours that straddle the change, every day: 00:30-03:30 is two hours in spring, four in autumn.
    night = office(workday_start=time(0, 30), workday_end=time(3, 30), workdays=[1, 2, 3, 4, 5, 6, 7])
    assert sla.working_seconds(night, london(2026, 3, 29, 0, 0), london(2026, 3, 29, 12, 0)) == 2 * HOUR
    assert sla.working_seconds(night, london(2026, 10, 25, 0, 0), london(2026, 10, 25, 12, 0)) == 4 * HOUR
    assert sla.working_seconds(night, london(2026, 3, 28, 0, 0), london(2026, 3, 28, 12, 0)) == 3 * HOUR
    # Opening at a time the spring change skips: the office opens at the jump (02:00 BST = 01:00 UTC).
    skipped = office(workday_start=time(1, 30), workday_end=time(3, 0), workdays=[7])
    day = sla.add_working_time(skipped, london(2026, 3, 29, 0, 0), 60)
    assert day == datetime(2026, 3, 29, 1, 1, tzinfo=UTC)


def test_a_start_outside_hours_counts_from_the_next_opening():
    assert sla.add_working_time(OFFICE, london(2026, 12, 5, 10, 0), HOUR) == london(2026, 12, 7, 10, 0)  # Saturday
    assert sla.add_working_time(OFFICE, london(2026, 12, 8, 7, 0), HOUR) == london(2026, 12, 8, 10, 0)  # early
    assert sla.add_working_time(OFFICE, london(2026, 12, 8, 18, 0), HOUR) == london(2026, 12, 9, 10, 0)  # late
    assert sla.working_seconds(OFFICE, london(2026, 12, 8, 7, 0), london(2026, 12, 8, 9, 0)) == 0
    assert sla.add_working_time(OFFICE, london(2026, 12, 5, 10, 0), 0) == london(2026, 12, 5, 10, 0)


def test_other_time_zones_and_weeks():
    # A Sunday-to-Thursday week in Dubai (no DST), without a holiday calendar.
    dubai = office(time_zone="Asia/Dubai", holiday_country="", workdays=[7, 1, 2, 3, 4])
    thursday = datetime(2026, 12, 3, 17, 30, tzinfo=ZoneInfo("Asia/Dubai"))
    assert sla.add_working_time(dubai, thursday, HOUR) == datetime(2026, 12, 6, 6, 0, tzinfo=UTC)  # Sun 10:00
    assert sla.working_seconds(office(workdays=[]), london(2026, 12, 7), london(2026, 12, 14)) == 5 * 8.5 * HOUR


def test_a_year_of_working_time_is_counted_day_by_day():
    # 2026 in England: 261 weekdays, 8 of them bank holidays.
    assert sla.working_seconds(OFFICE, london(2026, 1, 1), london(2027, 1, 1)) == 253 * int(8.5 * HOUR)


def test_an_inbox_without_a_calendar_says_what_is_wrong():
    assert sla.inbox_calendar_errors(OFFICE) == {}
    wrong = office(time_zone="Europe/Atlantis", holiday_country="XX", holiday_subdivision="", workdays=[0, 8])
    assert set(sla.inbox_calendar_errors(office(holiday_subdivision="XYZ"))) == {"holiday_subdivision"}
    assert set(sla.inbox_calendar_errors(wrong)) == {"time_zone", "holiday_country", "workdays"}
    # ... and still counts (in UTC, without holidays, Monday to Friday) rather than failing to open a case.
    assert sla.add_working_time(wrong, datetime(2026, 12, 25, 9, 0, tzinfo=UTC), HOUR) == datetime(
        2026, 12, 25, 10, 0, tzinfo=UTC
    )


def test_without_an_inbox_the_clock_runs_all_week():
    friday = london(2026, 12, 4, 16, 0)
    assert sla.working_seconds(None, friday, london(2026, 12, 7, 11, 30)) == int(67.5 * HOUR)
    assert sla.add_working_time(None, friday, 4 * HOUR) == london(2026, 12, 4, 20, 0)
    at_risk, due = sla.deadlines(None, opened_at=friday, hours=24, at_risk_percent=75)
    assert (at_risk, due) == (friday + timedelta(hours=18), friday + timedelta(hours=24))


def test_deadlines_are_the_at_risk_share_and_the_whole_budget_plus_pauses():
    monday = london(2026, 12, 7, 9, 0)
    at_risk, due = sla.deadlines(OFFICE, opened_at=monday, hours=24, at_risk_percent=75)
    assert at_risk == london(2026, 12, 9, 10, 0)  # 18 h: 8.5 + 8.5 + 1
    assert due == london(2026, 12, 9, 16, 0)  # 24 h: 8.5 + 8.5 + 7
    at_risk, due = sla.deadlines(OFFICE, opened_at=monday, hours=24, at_risk_percent=75, paused_seconds=2 * HOUR)
    assert (at_risk, due) == (london(2026, 12, 9, 12, 0), london(2026, 12, 10, 9, 30))


# --- properties ------------------------------------------------------------------------------------------------

ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata")
CALENDARS = (("GB", "ENG"), ("GB", "SCT"), ("DE", "BY"), ("US", "NY"), ("AU", "NSW"), ("", ""))
instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))


@st.composite
def inboxes(draw: Any, zones: tuple[str, ...] = ZONES, latest_opening: int = 22 * 60) -> CaseInbox:
    opens = draw(st.integers(0, latest_opening))
    closes = draw(st.integers(opens + 1, 24 * 60 - 1))
    country, subdivision = draw(st.sampled_from(CALENDARS))
    return office(
        time_zone=draw(st.sampled_from(zones)),
        holiday_country=country,
        holiday_subdivision=subdivision,
        workday_start=time(opens // 60, opens % 60),
        workday_end=time(closes // 60, closes % 60),
        workdays=sorted(draw(st.sets(st.integers(1, 7), min_size=1))),
    )


PROPERTY = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(inbox=inboxes(), start=instants, seconds=st.integers(0, 400 * HOUR))
def test_adding_working_time_is_the_inverse_of_counting_it(inbox, start, seconds):
    end = sla.add_working_time(inbox, start, seconds)
    assert end >= start
    assert sla.working_seconds(inbox, start, end) == seconds


@PROPERTY
@given(inbox=inboxes(), start=instants, span=st.integers(0, 90 * 24 * HOUR))
def test_counting_then_adding_lands_at_or_before_the_end(inbox, start, span):
    end = start + timedelta(seconds=span)
    counted = sla.working_seconds(inbox, start, end)
    reached = sla.add_working_time(inbox, start, counted)
    assert reached <= end
    assert sla.working_seconds(inbox, start, reached) == counted
    assert sla.working_seconds(inbox, reached, end) == 0 or counted == 0


@PROPERTY
@given(inbox=inboxes(), a=instants, b=instants, c=instants)
def test_working_time_adds_up(inbox, a, b, c):
    a, b, c = sorted(x.replace(microsecond=0) for x in (a, b, c))
    if (c - a).days > 400:
        c = a + timedelta(days=400)
        b = min(b, c)
    assert sla.working_seconds(inbox, a, b) + sla.working_seconds(inbox, b, c) == sla.working_seconds(inbox, a, c)


def minute_by_minute(inbox: CaseInbox, start: datetime, end: datetime) -> int:
    """A slow, independent count: walk the span a minute at a time on the office clock. A day's hours begin at the
    first minute its clock reads ``workday_start`` or later and end at the first it reads ``workday_end``."""
    zone = ZoneInfo(inbox.time_zone)
    days_off = (
        holidays.country_holidays(inbox.holiday_country, subdiv=inbox.holiday_subdivision or None)
        if inbox.holiday_country
        else {}
    )
    state: dict[date, str] = {}
    worked, minute = 0, start
    while minute < end:
        local = minute.astimezone(zone)
        day = local.date()
        if day.isoweekday() in inbox.workdays and day not in days_off:
            now = state.get(day, "before")
            if now == "before" and local.time() >= inbox.workday_start:
                now = "open"
            if now == "open" and local.time() >= inbox.workday_end:
                now = "closed"
            state[day] = now
            worked += 60 if now == "open" else 0
        minute += timedelta(minutes=1)
    return worked


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    # half of them open in the small hours, when European clocks change (01:00 UTC)
    inbox=st.one_of(inboxes(), inboxes(zones=("Europe/London", "Europe/Berlin"), latest_opening=4 * 60)),
    start=st.sampled_from(
        [datetime(2026, 3, 26, tzinfo=UTC), datetime(2026, 10, 22, tzinfo=UTC), datetime(2026, 12, 22, tzinfo=UTC)]
    ),
    offset=st.integers(0, 3 * 24 * 60),
    length=st.integers(0, 6 * 24 * 60),
)
@example(  # opening at a time the spring change skips
    inbox=office(workday_start=time(1, 30), workday_end=time(3, 0), workdays=[7]),
    start=datetime(2026, 3, 26, tzinfo=UTC),
    offset=2 * 24 * 60,
    length=2 * 24 * 60,
)
@example(  # closing in the hour the autumn change repeats
    inbox=office(time_zone="Europe/Berlin", workday_start=time(0, 0), workday_end=time(2, 30), workdays=[7]),
    start=datetime(2026, 10, 22, tzinfo=UTC),
    offset=2 * 24 * 60,
    length=2 * 24 * 60,
)
def test_it_agrees_with_a_minute_by_minute_count_around_clock_changes_and_christmas(inbox, start, offset, length):
    start += timedelta(minutes=offset)
    end = start + timedelta(minutes=length)
    assert sla.working_seconds(inbox, start, end) == minute_by_minute(inbox, start, end)


# --- the database: policies, pauses, the sweep ------------------------------------------------------------------


@pytest.fixture
def lead():
    return StaffUserFactory(first_name="Lena", last_name="Lead")


@pytest.fixture
def inbox(lead):
    team = Group.objects.create(name="SLA test team")
    return CaseInbox.objects.create(
        name="SLA test inbox",
        team=team,
        lead=lead,
        time_zone="Europe/London",
        holiday_country="GB",
        holiday_subdivision="ENG",
        workday_start=time(9, 0),
        workday_end=time(17, 30),
        workdays=[1, 2, 3, 4, 5],
    )


@pytest.fixture
def policies():
    """The policies these tests count on, whatever an earlier transactional test left of the seeded rows."""
    for priority, hours in ((Priority.HIGH, 24), (Priority.MEDIUM, 72), (Priority.LOW, 168)):
        SlaPolicy.objects.update_or_create(
            case_type=CaseType.AML, priority=priority, defaults={"hours": hours, "at_risk_percent": 75}
        )


def a_case(inbox: CaseInbox | None, *, opened_at: datetime, hours: int = 24, **fields: Any) -> Case:
    at_risk_at, due_at = sla.deadlines(
        inbox, opened_at=opened_at, hours=hours, at_risk_percent=75, paused_seconds=fields.get("paused_seconds", 0)
    )
    values: dict[str, Any] = {
        "type": CaseType.AML,
        "priority": Priority.HIGH,
        "state": CaseState.IN_PROGRESS,
        "title": "Deposits just under the threshold",
        "player": PlayerFactory(),
        "inbox": inbox,
        "opened_at": opened_at,
        "sla_hours": hours,
        "at_risk_at": at_risk_at,
        "due_at": due_at,
        **fields,
    }
    return Case.objects.create(**values)


def events(case: Case) -> list[tuple[str, dict[str, Any]]]:
    return [(e.kind, e.data) for e in CaseEvent.objects.filter(case=case).order_by("id")]


def audited(case: Case, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, target_id=str(case.pk)))


@pytest.mark.django_db
def test_the_policy_is_the_row_or_the_default(policies):
    assert sla.policy_for(CaseType.AML, Priority.HIGH) == (24, 75)
    SlaPolicy.objects.filter(case_type=CaseType.AML, priority=Priority.LOW).update(hours=100, at_risk_percent=50)
    assert sla.policy_for(CaseType.AML, Priority.LOW) == (100, 50)
    SlaPolicy.objects.filter(case_type=CaseType.FRAUD).delete()
    assert sla.policy_for(CaseType.FRAUD, Priority.HIGH) == (24, 75)
    assert sla.policy_for(CaseType.FRAUD, Priority.MEDIUM) == (72, 75)
    assert sla.policy_for(CaseType.FRAUD, Priority.LOW) == (168, 75)


@pytest.mark.django_db
def test_a_pause_over_a_weekend_adds_only_the_working_time_spent_waiting(inbox, policies):
    case = a_case(inbox, opened_at=london(2026, 12, 3, 9, 0))  # Thursday
    assert case.due_at == london(2026, 12, 7, 16, 0)  # 8.5 + 8.5 + 7 = 24 h
    sla.pause(case, london(2026, 12, 4, 16, 0))
    case.state = CaseState.WAITING
    case.save()
    sla.pause(case, london(2026, 12, 4, 17, 0))  # paused already: the first pause counts
    assert case.paused_at == london(2026, 12, 4, 16, 0)
    sla.resume(case, london(2026, 12, 7, 10, 0))  # Monday: 1.5 h on Friday, 1 h on Monday
    case.state = CaseState.IN_PROGRESS
    case.save()
    case.refresh_from_db()
    assert case.paused_at is None and case.paused_seconds == int(2.5 * HOUR)
    assert case.due_at == london(2026, 12, 8, 10, 0)  # Monday 16:00 + 2.5 h of working time
    assert case.at_risk_at == sla.add_working_time(inbox, case.opened_at, 18 * HOUR + int(2.5 * HOUR))
    sla.resume(case, london(2026, 12, 7, 11, 0))  # not paused: nothing moves
    assert case.paused_seconds == int(2.5 * HOUR)


@pytest.mark.django_db
def test_a_resume_moves_the_at_risk_point_by_the_wait_and_a_breach_stays(inbox, policies):
    opened = london(2026, 12, 7, 9, 0)  # at risk Wednesday 10:00, due Wednesday 16:00
    # Paused half an hour after its at-risk point: resumed, it is still half an hour past it.
    risky = a_case(inbox, opened_at=opened, sla_state=SlaState.AT_RISK, escalation_level=1)
    risky.paused_at, risky.state = london(2026, 12, 9, 10, 30), CaseState.WAITING
    sla.resume(risky, london(2026, 12, 10, 10, 30))  # 7 h on Wednesday, 1.5 h on Thursday
    assert risky.paused_seconds == int(8.5 * HOUR)
    assert risky.at_risk_at == london(2026, 12, 10, 10, 0)
    assert risky.due_at == london(2026, 12, 10, 16, 0)
    assert risky.sla_state == SlaState.AT_RISK
    # Marked at risk before its (moved) at-risk point: on track again, its escalation level kept.
    early = a_case(inbox, opened_at=opened, sla_state=SlaState.AT_RISK, escalation_level=1, type=CaseType.FRAUD)
    early.paused_at, early.state = london(2026, 12, 9, 9, 30), CaseState.WAITING
    sla.resume(early, london(2026, 12, 10, 10, 30))
    assert early.at_risk_at == london(2026, 12, 10, 11, 0)
    assert early.sla_state == SlaState.ON_TRACK and early.escalation_level == 1
    # A breach is history: moving the deadline later does not undo it.
    late = a_case(inbox, opened_at=opened, sla_state=SlaState.BREACHED, escalation_level=2, type=CaseType.SANCTIONS)
    late.paused_at, late.state = london(2026, 12, 9, 15, 0), CaseState.WAITING
    sla.resume(late, london(2026, 12, 14, 9, 0))
    assert late.due_at == london(2026, 12, 14, 10, 0)
    assert late.sla_state == SlaState.BREACHED


@pytest.mark.django_db
def test_the_sweep_marks_a_case_at_risk_and_escalates_it_to_the_team_lead_once(inbox, lead):
    case = a_case(inbox, opened_at=london(2026, 12, 7, 9, 0))  # at risk Wednesday 10:00
    assert sla.sla_sweep(now=london(2026, 12, 9, 9, 59)) == {"at_risk": 0, "breached": 0}
    assert sla.sla_sweep(now=london(2026, 12, 9, 10, 0)) == {"at_risk": 1, "breached": 0}
    case.refresh_from_db()
    assert case.sla_state == SlaState.AT_RISK and case.escalation_level == 1
    (sla_kind, sla_data), (escalated_kind, escalated_data) = events(case)
    assert sla_kind == CaseEventKind.SLA and sla_data["from"] == "on_track" and sla_data["to"] == "at_risk"
    assert escalated_kind == CaseEventKind.ESCALATED
    assert escalated_data == {"to": "team lead", "lead_id": lead.pk}
    texts = list(CaseEvent.objects.filter(case=case).order_by("id").values_list("text", flat=True))
    assert texts == [
        "At risk: 75% of the 24 working hours used; due Wednesday 9 December 2026 at 16:00 (Europe/London).",
        "Escalated to the team lead, Lena Lead",
    ]
    (audit,) = audited(case, "compliance.case_sla_at_risk")
    assert audit.actor_type == "system" and audit.data["visibility"] == "compliance"
    assert audit.data["escalated_to"] == "team lead" and audit.data["escalation_level"] == 1
    assert sla.sla_sweep(now=london(2026, 12, 9, 10, 1)) == {"at_risk": 0, "breached": 0}
    assert len(events(case)) == 2 and len(audited(case, "compliance.case_sla_at_risk")) == 1


@pytest.mark.django_db
def test_an_inbox_without_a_lead_marks_the_case_at_risk_without_an_escalation_event(inbox):
    inbox.lead = None
    inbox.save()
    case = a_case(inbox, opened_at=london(2026, 12, 7, 9, 0))
    assert sla.sla_sweep(now=london(2026, 12, 9, 10, 0))["at_risk"] == 1
    case.refresh_from_db()
    assert [kind for kind, _ in events(case)] == [CaseEventKind.SLA]
    assert case.escalation_level == 1


@pytest.mark.django_db
def test_the_sweep_breaches_a_due_case_and_escalates_it_to_the_mlro_once(inbox):
    case = a_case(inbox, opened_at=london(2026, 12, 7, 9, 0))  # due Wednesday 16:00
    sla.sla_sweep(now=london(2026, 12, 9, 10, 0))
    assert sla.sla_sweep(now=london(2026, 12, 9, 16, 0)) == {"at_risk": 0, "breached": 1}
    case.refresh_from_db()
    assert case.sla_state == SlaState.BREACHED and case.escalation_level == 2
    assert case.state == CaseState.IN_PROGRESS  # the SLA escalates; the case's own state is the analysts'
    kinds = [(kind, data.get("to")) for kind, data in events(case)]
    assert kinds == [
        (CaseEventKind.SLA, "at_risk"),
        (CaseEventKind.ESCALATED, "team lead"),
        (CaseEventKind.SLA, "breached"),
        (CaseEventKind.ESCALATED, "MLRO"),
    ]
    assert CaseEvent.objects.filter(case=case).order_by("-id")[1].text == (
        "Breached: the 24 working hours ran out on Wednesday 9 December 2026 at 16:00 (Europe/London)."
    )
    (audit,) = audited(case, "compliance.case_sla_breached")
    assert audit.data["sla_from"] == "at_risk" and audit.data["escalated_to"] == "MLRO"
    assert sla.sla_sweep(now=london(2026, 12, 10, 16, 0)) == {"at_risk": 0, "breached": 0}
    assert len(events(case)) == 4


@pytest.mark.django_db
def test_a_case_found_past_both_points_is_breached_only(inbox):
    case = a_case(inbox, opened_at=london(2026, 12, 7, 9, 0))
    assert sla.sla_sweep(now=london(2026, 12, 14, 9, 0)) == {"at_risk": 0, "breached": 1}
    case.refresh_from_db()
    assert [(kind, data.get("to")) for kind, data in events(case)] == [
        (CaseEventKind.SLA, "breached"),
        (CaseEventKind.ESCALATED, "MLRO"),
    ]
    assert audited(case, "compliance.case_sla_at_risk") == []


@pytest.mark.django_db
def test_the_sweep_leaves_waiting_and_closed_cases_alone(inbox, lead):
    opened = london(2026, 12, 1, 9, 0)
    waiting = a_case(inbox, opened_at=opened, state=CaseState.WAITING, paused_at=london(2026, 12, 1, 10, 0))
    closed = a_case(
        inbox,
        opened_at=opened,
        state=CaseState.CLOSED,
        outcome="refuted",
        closed_at=london(2026, 12, 1, 11, 0),
        closed_by=lead,
        type=CaseType.FRAUD,
    )
    running = a_case(inbox, opened_at=opened, type=CaseType.SANCTIONS)
    assert sla.sla_sweep(now=london(2026, 12, 20, 9, 0)) == {"at_risk": 0, "breached": 1}
    for case in (waiting, closed):
        case.refresh_from_db()
        assert case.sla_state == SlaState.ON_TRACK and case.escalation_level == 0 and events(case) == []
    running.refresh_from_db()
    assert running.sla_state == SlaState.BREACHED


@pytest.mark.django_db
def test_a_case_without_an_inbox_is_swept_on_the_24_7_clock():
    opened = london(2026, 12, 5, 9, 0)  # a Saturday: it counts
    case = a_case(None, opened_at=opened)
    assert case.due_at == opened + timedelta(hours=24)
    assert sla.sla_sweep(now=opened + timedelta(hours=18)) == {"at_risk": 1, "breached": 0}
    case.refresh_from_db()
    assert [kind for kind, _ in events(case)] == [CaseEventKind.SLA]  # no inbox, no lead to escalate to
    assert "(UTC)" in CaseEvent.objects.get(case=case).text
    assert sla.sla_sweep(now=opened + timedelta(hours=24)) == {"at_risk": 0, "breached": 1}


@pytest.mark.django_db
def test_the_sweep_works_in_batches_oldest_first(inbox):
    cases = [a_case(inbox, opened_at=london(2026, 12, 7, 9, minute)) for minute in (2, 0, 1)]
    assert sla.sla_sweep(now=london(2026, 12, 14, 9, 0), batch=2) == {"at_risk": 0, "breached": 2}
    states = {c.pk: Case.objects.get(pk=c.pk).sla_state for c in cases}
    assert states == {cases[0].pk: SlaState.ON_TRACK, cases[1].pk: SlaState.BREACHED, cases[2].pk: SlaState.BREACHED}
    assert sla.sla_sweep(now=london(2026, 12, 14, 9, 0), batch=2) == {"at_risk": 0, "breached": 1}


@pytest.mark.django_db
def test_the_sweep_locks_each_case_skipping_those_already_locked(inbox):
    a_case(inbox, opened_at=london(2026, 12, 7, 9, 0))
    with CaptureQueriesContext(connection) as queries:
        sla.sla_sweep(now=london(2026, 12, 14, 9, 0))
    locking = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == 1 and "SKIP LOCKED" in locking[0]


@pytest.mark.django_db
def test_the_sweeps_query_can_use_the_open_cases_index(inbox):
    a_case(inbox, opened_at=london(2026, 12, 7, 9, 0))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: make the planner show its index
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    plan = (
        sla._running()
        .filter(due_at__lte=london(2026, 12, 14), sla_state__in=(SlaState.ON_TRACK, SlaState.AT_RISK))
        .order_by("due_at")
        .values_list("pk", flat=True)[:500]
        .explain()
    )
    assert "compliance_case_open_idx" in plan


@pytest.mark.django_db
def test_time_left_counts_working_time_and_stops_while_waiting(inbox):
    case = a_case(inbox, opened_at=london(2026, 12, 7, 9, 0))  # due Wednesday 16:00
    assert sla.time_left(case, london(2026, 12, 9, 9, 0)) == 7 * HOUR
    assert sla.time_left(case, london(2026, 12, 10, 9, 30)) == -int(2 * HOUR)  # 16:00-17:30 and 09:00-09:30
    case.paused_at = london(2026, 12, 9, 15, 0)
    assert sla.time_left(case, london(2026, 12, 11, 9, 0)) == HOUR


@pytest.mark.django_db
def test_a_case_worked_over_christmas_waits_across_a_weekend_and_bank_holidays(policies):
    """Through the case services, on the migration's Compliance inbox (London, England's bank holidays): a high
    case opened Wednesday 23 December 2026 is due in 24 working hours, skipping Christmas Day (Friday), the
    weekend and Monday 28 December (Boxing Day's substitute). It waits for the player from Thursday 15:00 to
    Tuesday 10:00: 2.5 + 1 working hours stop its clock, not the 115 hours on the wall; the sweep leaves it alone
    while it waits and then marks it at risk and breached at the moved points, to the minute."""
    analyst = StaffUserFactory(roles=[roles.AML_ANALYST])
    with time_machine.travel(london(2026, 12, 23, 9, 0), tick=False):
        case = cases.case_open(
            actor=analyst, player=PlayerFactory(), case_type="aml", title="Christmas", priority="high"
        )
        assert (case.inbox.name, case.assignee) == ("Compliance", analyst)
        assert case.due_at == london(2026, 12, 29, 16, 0)  # 8.5 Wed + 8.5 Thu + 7 Tue
        assert case.at_risk_at == london(2026, 12, 29, 10, 0)  # 18 h
        cases.case_start(actor=analyst, case=case)
    with time_machine.travel(london(2026, 12, 24, 15, 0), tick=False):
        cases.case_wait(actor=analyst, case=case, waiting_on="player", text="Asked for payslips")
    assert sla.sla_sweep(now=london(2026, 12, 29, 9, 59)) == {"at_risk": 0, "breached": 0}  # waiting: not swept
    case.refresh_from_db()
    assert sla.time_left(case, london(2026, 12, 29, 9, 59)) == 7 * HOUR + int(2.5 * HOUR)  # stopped at 15:00
    with time_machine.travel(london(2026, 12, 29, 10, 0), tick=False):
        cases.case_resume(actor=analyst, case=case, text="Payslips received")
    case.refresh_from_db()
    assert case.paused_seconds == int(3.5 * HOUR)  # Thursday 15:00-17:30 and Tuesday 09:00-10:00
    assert case.at_risk_at == london(2026, 12, 29, 13, 30)
    assert case.due_at == london(2026, 12, 30, 11, 0)  # Tuesday 16:00 + 3.5 h: 1.5 h Tuesday, 2 h Wednesday
    assert sla.sla_sweep(now=london(2026, 12, 29, 13, 29)) == {"at_risk": 0, "breached": 0}
    assert sla.sla_sweep(now=london(2026, 12, 29, 13, 30)) == {"at_risk": 1, "breached": 0}
    assert sla.sla_sweep(now=london(2026, 12, 30, 10, 59)) == {"at_risk": 0, "breached": 0}
    assert sla.sla_sweep(now=london(2026, 12, 30, 11, 0)) == {"at_risk": 0, "breached": 1}
    case.refresh_from_db()
    assert (case.sla_state, case.escalation_level) == (SlaState.BREACHED, 2)
    moves = [e.data for e in CaseEvent.objects.filter(case=case, kind=CaseEventKind.SLA).order_by("id")]
    assert [(m["from"], m["to"]) for m in moves] == [("on_track", "at_risk"), ("at_risk", "breached")]
    assert AuditEvent.objects.filter(target_id=str(case.pk), action="compliance.case_sla_breached").count() == 1
