"""The UK quarterly return: exact figures on a quarter built through the services (2026-Q2: July-September 2026,
London on BST), with postings and protection events just either side of both quarter boundaries' local
midnights, two currencies, players of several ages (one turning 25 at local midnight) and a German player the
return must leave out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from apps.audit.services import SystemActor
from apps.reports import rollups
from apps.reports.context import RunContext
from apps.reports.definitions.uk_quarterly import UkQuarterly
from apps.reports.types import report_type
from apps.responsible import services as rg
from apps.wallet import posting
from apps.wallet.services import withdrawal_approve, withdrawal_cancel, withdrawal_request, withdrawal_settle
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db

ACTOR = SystemActor("tests")
D = Decimal
Q2 = {"quarter": "2026-Q2"}
BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
MEASURES = (
    "Self-exclusion",
    "Time-out",
    "Limit set (new)",
    "Limit decreased",
    "Limit increase asked for",
    "Limit removal asked for",
)


def at(*args: int):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


def bet(player, amount, ref, category="slots"):
    posting.wallet_bet(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=ref,
        game_category=category,
        reference=ref,
        api_client="pfx",
    )


def win(player, amount, round_id, ref, category="slots"):
    posting.wallet_win(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=round_id,
        game_category=category,
        reference=ref,
        api_client="pfx",
    )


def gb_takes_euros():
    """The operator's GB licence accepts EUR accounts from February 2026 (a newer GB rule pack)."""
    from apps.geo.models import RulePack
    from apps.geo.services import geo_config_save

    pack = RulePack.objects.filter(jurisdiction__code="GB").order_by("-effective_from").first()
    pack.pk = None
    pack.effective_from = datetime(2026, 2, 1, tzinfo=UTC)
    pack.allowed_currencies = ["GBP", "EUR"]
    geo_config_save(actor=None, obj=pack, created=True, changed=["allowed_currencies"])


def build_quarter(support_agent, finance_officer, mlro):
    gb_takes_euros()
    with at(2026, 1, 5, 12):
        bob = PlayerFactory(date_of_birth=date(1990, 1, 10))  # 36: 35-44, gave no gender
        dan = PlayerFactory(date_of_birth=date(2001, 8, 15), gender="male")  # 24, then 25 on 15 August
    with at(2026, 6, 30, 22, 30):  # 23:30 on 30 June in London: Q1's
        cy = PlayerFactory(date_of_birth=date(1958, 5, 5), gender="female")  # 68: 65+
    with at(2026, 6, 30, 23, 30):  # 00:30 on 1 July in London: Q2's
        amy = PlayerFactory(date_of_birth=date(2006, 8, 1), gender="female")  # 19: 18-24
        posting.wallet_deposit(player=bob, amount=D("5.00"), currency="GBP")
        rg.limit_set(actor=ACTOR, player=bob, kind="deposit", period="day", value="50.00")
    with at(2026, 8, 10, 9):
        eve = PlayerFactory(currency="EUR", date_of_birth=date(1980, 2, 2), gender="other")
        dieter = PlayerFactory(country="DE", currency="EUR")
    with at(2026, 6, 15, 12):
        posting.wallet_deposit(player=cy, amount=D("40.00"), currency="GBP")
    with at(2026, 7, 2, 10):
        posting.wallet_deposit(player=amy, amount=D("100.00"), currency="GBP")
        bet(amy, "10.00", "a1", category="table")  # slots would be capped at 2.00 a spin at 19
        win(amy, "4.00", "a1", "a1-win", category="table")
        bet(amy, "5.00", "a2", category="sports")
        posting.wallet_rollback(player=amy, bet_reference="a2", api_client="pfx")
        bet(amy, "20.00", "a3", category="table")
        win(amy, "30.00", "a3", "a3-win", category="")  # no game category: unattributed
    with at(2026, 7, 3, 10):
        withdrawal_request(player=amy, amount=D("50.00"), currency="GBP")
        cancelled = withdrawal_request(player=amy, amount=D("10.00"), currency="GBP")
        withdrawal_cancel(withdrawal=cancelled, api_client="")
        rg.limit_set(actor=ACTOR, player=amy, kind="deposit", period="week", value="100.00")
    with at(2026, 7, 4, 10):
        paid = withdrawal_request(player=amy, amount=D("20.00"), currency="GBP")
        withdrawal_approve(actor=finance_officer, withdrawal=paid)
        withdrawal_settle(actor=finance_officer, withdrawal=paid, paid=True)
    with at(2026, 7, 5, 10):
        posting.wallet_bonus_award(player=bob, amount=D("20.00"), currency="GBP")
        bet(bob, "25.00", "b1", category="live")  # 5.00 cash, 20.00 bonus
        win(bob, "10.00", "b1", "b1-win", category="live")  # 2.00 to cash, 8.00 to bonus
    with at(2026, 7, 10, 10):
        posting.wallet_deposit(player=dan, amount=D("10.00"), currency="GBP")
        bet(dan, "5.00", "d1", category="sports")
        posting.wallet_rollback(player=dan, bet_reference="d1", api_client="pfx")  # gambled nothing in the end
        rg.interaction_record(actor=support_agent, player=amy, channel="call", summary="check-in", outcome="fine")
    with at(2026, 8, 1, 10):
        rg.limit_set(actor=ACTOR, player=bob, kind="deposit", period="day", value="30.00")
    with at(2026, 8, 2, 10):
        rg.limit_set(actor=ACTOR, player=bob, kind="deposit", period="day", value="60.00")
    with at(2026, 8, 5, 10):
        rg.interaction_record(actor=support_agent, player=bob, channel="email", summary="limits", outcome="sent")
    with at(2026, 8, 6, 10):
        rg.interaction_record(actor=support_agent, player=bob, channel="call", summary="limits", outcome="talked")
        rg.limit_set(
            actor=support_agent,
            player=bob,
            kind="loss",
            period="month",
            value="200.00",
            source="operator",
            reason="affordability",
            staff=support_agent,
        )
    with at(2026, 8, 10, 10):
        posting.wallet_deposit(player=eve, amount=D("200.00"), currency="EUR")
        bet(eve, "50.00", "e1", category="poker")
        posting.wallet_deposit(player=dieter, amount=D("100.00"), currency="EUR")
        bet(dieter, "10.00", "x1", category="table")
        rg.self_exclude(actor=ACTOR, player=dieter, term="1y")
    with at(2026, 8, 14, 23, 30):  # 00:30 on 15 August in London: Dan's 25th birthday
        rg.time_out(actor=ACTOR, player=dan, hours=24)
    with at(2026, 8, 20, 10):
        rg.operator_exclude(actor=mlro, player=dan, reason="affordability concerns")
        rg.operator_exclude(actor=mlro, player=dieter, reason="affordability concerns")
    with at(2026, 9, 1, 10):
        rg.time_out(actor=ACTOR, player=amy, hours=48)
    with at(2026, 9, 30, 22, 30):  # 23:30 on 30 September in London: Q2's
        rg.self_exclude(actor=ACTOR, player=cy, term="6m")
    with at(2026, 9, 30, 23, 30):  # 00:30 on 1 October in London: Q3's
        bet(bob, "1.00", "b2")
        rg.self_exclude(actor=ACTOR, player=eve, term="6m")
    with at(2026, 10, 5, 10):
        posting.wallet_deposit(player=amy, amount=D("90.00"), currency="GBP")  # her weekly limit is 100
    rollups.drain()
    assert rollups.check() == []
    return {"amy": amy, "bob": bob, "cy": cy, "dan": dan, "eve": eve, "dieter": dieter}


@pytest.fixture
def quarter(support_agent, finance_officer, mlro):
    return build_quarter(support_agent=support_agent, finance_officer=finance_officer, mlro=mlro)


def run(params=Q2, user=None):
    report = UkQuarterly()
    values, _, errors = report.clean(params, today=date(2026, 12, 7))
    assert errors == {}
    return {table.name: list(table.rows) for table in report.tables(RunContext(user=user), values)}


def test_ggy_by_product_is_stakes_plus_other_income_minus_prizes(quarter):
    zero = (D("0"), D("0"), D("0"), D("0"), D("0"))
    assert run()["ggy"] == [
        ("casino", "EUR", D("50.00"), D("0"), D("0"), D("0"), D("50.00")),
        ("betting", "EUR", *zero),
        ("bingo", "EUR", *zero),
        ("lottery", "EUR", *zero),
        ("casino", "GBP", D("55.00"), D("20.00"), D("0"), D("14.00"), D("41.00")),
        ("betting", "GBP", *zero),  # two sports bets, both rolled back
        ("bingo", "GBP", *zero),
        ("lottery", "GBP", *zero),
        ("unattributed", "GBP", D("0"), D("0"), D("0"), D("30.00"), D("-30.00")),
    ]


def test_customer_funds_are_the_balances_at_the_quarters_last_local_instant(quarter):
    assert run()["customer_funds"] == [
        ("EUR", D("150.00"), D("0"), D("150.00"), D("0"), 1),
        # Amy 34 cash (50 pending), Bob 2 cash + 8 bonus (his 1 October bet is Q3's), Cy 40, Dan 10
        ("GBP", D("86.00"), D("8.00"), D("94.00"), D("50.00"), 4),
    ]


def test_active_accounts_gambled_and_registrations_opened_in_the_quarter(quarter):
    # active: Amy, Bob, Eve (Dan's only bet was rolled back, Cy did not play); opened: Amy (00:30 on 1 July) and
    # Eve (Cy at 23:30 on 30 June is Q1's, Dieter is German)
    assert run()["accounts"] == [("active accounts", 3), ("new registrations", 2)]


def test_deposits_and_withdrawals_come_from_the_rollups(quarter):
    assert run()["payments"] == [
        ("EUR", D("200.00"), 1, D("0"), 0, D("0"), 0),
        ("GBP", D("115.00"), 3, D("70.00"), 2, D("20.00"), 1),
    ]


def test_protection_events_by_age_band_at_the_event_and_gender(quarter):
    # (female, male, other, not recorded)
    counted = {
        ("Self-exclusion", "65+"): (1, 0, 0, 0),  # Cy at 23:30 on 30 September (Eve's on 1 October is Q3's)
        ("Time-out", "18-24"): (1, 0, 0, 0),  # Amy
        ("Time-out", "25-34"): (0, 1, 0, 0),  # Dan, 25 since local midnight
        ("Limit set (new)", "18-24"): (1, 0, 0, 0),  # Amy
        ("Limit set (new)", "35-44"): (0, 0, 0, 1),  # Bob at 00:30 on 1 July, who gave no gender
        ("Limit decreased", "35-44"): (0, 0, 0, 1),
        ("Limit increase asked for", "35-44"): (0, 0, 0, 1),
    }
    expected = []
    for measure in MEASURES:
        for band in BANDS:
            genders = counted.get((measure, band), (0, 0, 0, 0))
            expected.append((measure, band, *genders, sum(genders)))
    assert run()["protection"] == expected


def test_customer_interactions_by_channel_and_the_operators_interventions(quarter):
    assert run()["interactions"] == [
        ("RG interaction", "call", 2, 2),
        ("RG interaction", "email", 1, 1),
        ("RG interaction", "chat", 0, 0),
        ("RG interaction", "letter", 0, 0),
        ("RG interaction", "meeting", 0, 0),
        ("Operator exclusion or block", "", 1, 1),  # Dan (Dieter's is Germany's)
        ("Limit set by the operator", "", 1, 1),
    ]


def test_the_same_data_gives_the_same_rows_twice(quarter):
    assert run() == run()


def test_the_next_quarter_starts_at_local_midnight(quarter):
    tables = run({"quarter": "2026-Q3"})
    assert tables["ggy"][0] == ("casino", "GBP", D("1.00"), D("0"), D("0"), D("0"), D("1.00"))
    assert [row for row in tables["protection"] if row[-1]] == [("Self-exclusion", "45-54", 0, 0, 1, 0, 1)]  # Eve, 46
    assert tables["accounts"] == [("active accounts", 1), ("new registrations", 0)]
    assert tables["payments"] == [("GBP", D("90.00"), 1, D("0"), 0, D("0"), 0)]


def test_a_quarter_without_activity_has_zero_counts_and_no_money_rows(db):
    tables = run({"quarter": "2024-Q1"})
    assert tables["ggy"] == [] and tables["payments"] == [] and tables["customer_funds"] == []
    assert tables["accounts"] == [("active accounts", 0), ("new registrations", 0)]
    assert {row[-1] for row in tables["protection"]} == {0} and len(tables["protection"]) == 36


def test_it_is_registered_with_its_due_date_schedule_and_permission():
    kind = report_type("uk_quarterly")
    assert isinstance(kind, UkQuarterly) and kind.permission == "reports.run_regulatory"
    assert kind.due is not None
    period = kind.due.period_of("2026-Q2")
    assert (period.start, period.end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert kind.due.due_date(period) == date(2026, 10, 28)
    spec = kind.schedules[0]
    assert (spec.crontab["day_of_month"], spec.crontab["month_of_year"], spec.crontab["hour"]) == ("1", "1,4,7,10", "6")
    assert spec.params == {}  # the quarter takes its default when the schedule fires: the previous one
    _, texts, _ = kind.clean({}, today=date(2026, 10, 1))
    assert texts == {"quarter": "2026-Q2"}
    _, texts, _ = kind.clean({}, today=date(2027, 1, 1))
    assert texts == {"quarter": "2026-Q3"}


def test_it_refuses_a_malformed_quarter():
    _, _, errors = UkQuarterly().clean({"quarter": "2026-Q5"}, today=date(2026, 12, 7))
    assert errors == {"quarter": "Give a UK quarter as YYYY-Qn, e.g. 2026-Q1 (April-June 2026)."}
    _, _, errors = UkQuarterly().clean({"quarter": "2026-Q1", "brand": "x"}, today=date(2026, 12, 7))
    assert set(errors) == {"brand"}


def test_finance_and_the_mlro_may_run_it_an_aml_analyst_may_not(finance_officer, mlro, aml_analyst):
    assert finance_officer.has_perm("reports.run_regulatory") and mlro.has_perm("reports.run_regulatory")
    assert not aml_analyst.has_perm("reports.run_regulatory")
