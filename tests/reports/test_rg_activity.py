"""Responsible-gambling activity: exact counts per local day and jurisdiction on events made through the services
(limits, time-outs, self-exclusions with a correction, register hits with and without an account, interactions,
operator exclusions and limits, limit flags), across a local midnight on two clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache

from apps.audit.services import SystemActor
from apps.players.eligibility import can
from apps.reports.context import RunContext
from apps.reports.definitions.rg_activity import KINDS, RgActivity
from apps.responsible import registers as adapters
from apps.responsible import services as rg
from apps.wallet import events, posting
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db

ACTOR = SystemActor("tests")
D = Decimal
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def at(*args: int):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


def counts(**named: int) -> tuple[int, ...]:
    """A row's counts in the report's column order, zero where not named."""
    unknown = set(named) - {kind for kind, _ in KINDS}
    assert not unknown, unknown
    return tuple(named.get(kind, 0) for kind, _ in KINDS)


def build_march(support_agent, mlro, aml_analyst, registers):
    """A March of protection events in GB (London: UTC+0, then UTC+1 from 29 March) and DE (Berlin: UTC+1, then
    UTC+2), with events just either side of local midnight and of the month's ends."""
    ann = PlayerFactory(last_name="Ashdown")
    ben = PlayerFactory()
    cat = PlayerFactory()
    dora = PlayerFactory(country="DE", currency="EUR")
    with at(2026, 3, 2, 10):
        rg.limit_set(actor=ACTOR, player=ann, kind="deposit", period="day", value="50.00")  # set
    with at(2026, 3, 2, 11):
        rg.limit_set(actor=ACTOR, player=ann, kind="deposit", period="day", value="40.00")  # decreased
        rg.limit_set(actor=ACTOR, player=ann, kind="deposit", period="day", value="40.00")  # the same: no change
    with at(2026, 3, 3, 10):
        rg.limit_set(actor=ACTOR, player=ann, kind="deposit", period="day", value="100.00")  # increase asked
        rg.limit_set(actor=ACTOR, player=ann, kind="deposit", period="day", value=None)  # removal asked
        rg.limit_set(
            actor=support_agent,
            player=ann,
            kind="loss",
            period="week",
            value="500.00",
            source="operator",
            reason="affordability",
            staff=support_agent,
        )
        rg.interaction_record(actor=support_agent, player=ann, channel="call", summary="chat", outcome="limit set")
    with at(2026, 3, 4, 12):
        posting.wallet_deposit(player=ann, amount=D("36.00"), currency="GBP")  # 90 % of the 40.00 limit in force
        events.drain()
    with at(2026, 3, 10, 9):
        rg.time_out(actor=ACTOR, player=ann, hours=24)
    registers.excluded.add("Ashdown")
    logins = [
        datetime(2026, 3, 12, 8, tzinfo=UTC),
        datetime(2026, 3, 12, 20, tzinfo=UTC),
        datetime(2026, 3, 13, 8, tzinfo=UTC),
    ]
    for moment in logins:
        with time_machine.travel(moment, tick=False):
            cache.delete_pattern("rg:register:*")
            assert can(ann, "login").reasons == ["self_excluded_national"]
    registers.excluded.clear()
    with at(2026, 3, 31, 22, 30):  # 23:30 in London (BST): still 31 March
        own = rg.self_exclude(actor=ACTOR, player=ben, term="5y")
    with at(2026, 4, 2, 9):  # a correction later: the replacement row is the same self-exclusion
        correction = rg.exclusion_correction_request(actor=support_agent, exclusion=own, term="1y", reason="typo")
        rg.exclusion_correction_decide(actor=aml_analyst, correction=correction, approve=True)
    with at(2026, 3, 31, 23, 30):  # 00:30 on 1 April in London: April's
        rg.self_exclude(actor=ACTOR, player=cat, term="6m")
    with at(2026, 2, 28, 23, 30):  # 00:30 on 1 March in Berlin: March's
        rg.time_out(actor=ACTOR, player=dora, hours=24)
    with at(2026, 3, 15, 12):
        rg.operator_exclude(actor=mlro, player=dora, reason="affordability concerns")
    registers.excluded.add("Nobody")
    with at(2026, 3, 20, 23, 30):  # 00:30 on the 21st in Berlin: a registration asked OASIS, no account yet
        subject = adapters.Subject(
            external_id="X-1", first_name="Nina", last_name="Nobody", date_of_birth=date(1990, 1, 1), country="DE"
        )
        assert adapters.ask("oasis", subject, point="registration").excluded
    return {"ann": ann, "ben": ben, "cat": cat, "dora": dora}


@pytest.fixture
def march(support_agent, mlro, aml_analyst, registers):
    return build_march(support_agent=support_agent, mlro=mlro, aml_analyst=aml_analyst, registers=registers)


def run(params, user=None):
    report = RgActivity()
    values, _, errors = report.clean(params, today=date(2026, 12, 7))
    assert errors == {}
    assert report.check(values, user) == {}
    return {table.name: list(table.rows) for table in report.tables(RunContext(user=user), values)}


def test_it_counts_each_kind_on_its_local_day_and_jurisdiction(march):
    tables = run(MARCH)
    assert tables["by_day"] == [
        (date(2026, 3, 1), "DE", *counts(time_out=1)),
        (date(2026, 3, 15), "DE", *counts(operator_exclusion=1)),
        (date(2026, 3, 21), "DE", *counts(register_exclusion=1)),
        (date(2026, 3, 2), "GB", *counts(limit_set=1, limit_decreased=1)),
        (
            date(2026, 3, 3),
            "GB",
            *counts(limit_increased=1, limit_removed=1, operator_limit=1, interaction=1),
        ),
        (date(2026, 3, 4), "GB", *counts(limit_flag=1)),
        (date(2026, 3, 10), "GB", *counts(time_out=1)),
        (date(2026, 3, 12), "GB", *counts(register_exclusion=1)),  # asked twice that day: one person
        (date(2026, 3, 13), "GB", *counts(register_exclusion=1)),
        (date(2026, 3, 31), "GB", *counts(self_exclusion=1)),  # corrected later: still one
    ]
    assert tables["totals"] == [
        ("DE", *counts(time_out=1, operator_exclusion=1, register_exclusion=1)),
        (
            "GB",
            *counts(
                limit_set=1,
                limit_decreased=1,
                limit_increased=1,
                limit_removed=1,
                operator_limit=1,
                interaction=1,
                limit_flag=1,
                time_out=1,
                self_exclusion=1,
                register_exclusion=1,  # the same person on two days: once in the period
            ),
        ),
    ]


def test_the_next_month_has_the_self_exclusion_made_after_local_midnight(march):
    tables = run({"start": "2026-04-01", "end": "2026-04-30", "jurisdiction": "gb"})
    assert tables["by_day"] == [(date(2026, 4, 1), "GB", *counts(self_exclusion=1))]
    assert tables["totals"] == [("GB", *counts(self_exclusion=1))]


def test_a_jurisdiction_filter_keeps_only_its_rows(march):
    tables = run({**MARCH, "jurisdiction": "DE"})
    assert [row[:2] for row in tables["by_day"]] == [
        (date(2026, 3, 1), "DE"),
        (date(2026, 3, 15), "DE"),
        (date(2026, 3, 21), "DE"),
    ]
    assert [row[0] for row in tables["totals"]] == ["DE"]


def test_the_same_data_gives_the_same_rows_twice(march):
    assert run(MARCH) == run(MARCH)


def test_an_empty_period_has_empty_tables(march):
    assert run({"start": "2025-01-01", "end": "2025-01-31"}) == {"by_day": [], "totals": []}


def test_it_refuses_an_end_before_the_start_and_malformed_days():
    report = RgActivity()
    values, _, errors = report.clean({"start": "2026-03-31", "end": "2026-03-01"}, today=date(2026, 12, 7))
    assert errors == {}
    assert report.check(values, None) == {"end": "The end is before the start."}
    _, _, errors = report.clean({"start": "31/03/2026", "jurisdiction": "Great Britain"}, today=date(2026, 12, 7))
    assert set(errors) == {"start", "jurisdiction"}


def test_its_defaults_are_the_previous_month():
    _, texts, errors = RgActivity().clean({}, today=date(2026, 1, 15))
    assert errors == {} and texts == {"start": "2025-12-01", "end": "2025-12-31"}


def test_it_needs_the_compliance_permission(kyc_officer, crm_manager):
    assert RgActivity.permission == "reports.run_compliance"
    assert kyc_officer.has_perm(RgActivity.permission)
    assert not crm_manager.has_perm(RgActivity.permission)
