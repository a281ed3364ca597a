"""Bonus cost by campaign and template: exact figures on bonuses given through the bonus and CRM services (a
campaign's awards, one completed and one cancelled, manual awards, a forfeit), two currencies, an award just after
local midnight; the same bonus cost as ggr_daily's over the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from apps.bonuses import awards
from apps.bonuses.choices import EndReason, Source
from apps.bonuses.models import PlayerBonus
from apps.crm import campaigns, services
from apps.reports.context import RunContext
from apps.reports.definitions.bonus_cost import BonusCost
from apps.reports.definitions.ggr_daily import DailyGgr
from apps.wallet import posting
from tests.bonuses.conftest import gb_match, gb_player, published
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db

D = Decimal
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
APRIL = {"start": "2026-04-01", "end": "2026-04-30"}
TODAY = date(2026, 12, 7)
_rounds = iter(range(1, 1_000_000))


def at(*args: int):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


def cash(code: str, **over):
    """GBP 10 cash, wagered once, at most GBP 6 paid as cash, GBP 2 maximum bet."""
    terms = {
        "code": code,
        "type": "cash",
        "percent": None,
        "min_deposit": None,
        "amount": "10.00",
        "wagering_multiplier": "1",
        "max_conversion": "6.00",
        "days_to_claim": 3,
        "budget": "1000.00",
        **over,
    }
    return gb_match(**terms)


def play(player, stake, win=None):
    n = next(_rounds)
    common = {"currency": player.currency, "round_id": f"bc{n}", "game_id": "starburst", "provider": "netent"}
    posting.wallet_bet(
        player=player, amount=D(stake), game_category="slots", reference=f"bcb-{n}", api_client="pfx", **common
    )
    if win:
        posting.wallet_win(
            player=player, amount=D(win), game_category="slots", reference=f"bcw-{n}", api_client="pfx", **common
        )


def manual(crm, player, template):
    return awards.bonus_award(actor=crm, player=player, template=template, source=Source.MANUAL)


def build_bonuses(crm_manager, django_capture_on_commit_callbacks):
    crm = crm_manager
    with at(2026, 2, 20, 10):
        spring = published(crm, cash("spring-cash"))
        malta = published(
            crm,
            cash("mt-cash", name="Malta cash", currency="EUR", amount="20.00", max_bet="5.00", jurisdictions=["MT"]),
        )
        pa, pb = gb_player(), gb_player()
        segment = services.segment_create(actor=crm, name="UK players", criteria={"country": ["GB"]}, currency="GBP")
    with at(2026, 3, 5, 10):
        campaign = campaigns.campaign_create(
            actor=crm,
            name="Spring back",
            segment=segment,
            template=spring,
            mode="award",
            ends_at=timezone.now() + timedelta(days=7),
        )
        with django_capture_on_commit_callbacks(execute=False):
            campaigns.campaign_start(actor=crm, campaign=campaign)
        campaigns.campaign_run(campaign_id=campaign.pk)  # GBP 10 each to Pa and Pb
    with at(2026, 3, 6, 10):
        for _ in range(4):
            play(pa, "2.00")
        play(pa, "2.00", win="3.00")
        assert awards.bonuses_process_due()["completed"] == 1  # GBP 3 paid as cash, nothing forfeited
    with at(2026, 3, 10, 10):
        awards.bonus_cancel(actor=crm, bonus=PlayerBonus.objects.get(player=pb), reason="Player asked to stop it")
    with at(2026, 3, 15, 10):
        manual(crm, PlayerFactory(country="MT", currency="EUR"), malta)
    with at(2026, 3, 20, 10):
        pd = gb_player()
        late = manual(crm, pd, spring)
    with at(2026, 3, 31, 23, 30):  # 00:30 on 1 April in London: April's
        manual(crm, gb_player(), spring)
    with at(2026, 4, 2, 10):
        awards.bonus_forfeit(actor=None, bonus=late, reason=EndReason.WITHDRAWAL)
    return {"spring": spring, "malta": malta, "campaign": campaign}


@pytest.fixture
def bonuses(crm_manager, django_capture_on_commit_callbacks):
    return build_bonuses(crm_manager=crm_manager, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)


def run(params=MARCH, user=None):
    report = BonusCost()
    values, _, errors = report.clean(params, today=TODAY)
    assert errors == {} and report.check(values, user) == {}
    return {table.name: list(table.rows) for table in report.tables(RunContext(user=user), values)}


def test_bonus_cost_by_campaign_and_template(bonuses):
    spring_name, malta_name = bonuses["spring"].name, bonuses["malta"].name
    assert run()["by_campaign"] == [
        ("Spring back", "spring-cash", spring_name, "GBP", 2, D("20.00"), D("10.00"), D("10.00"), D("3.00")),
        ("(no campaign)", "mt-cash", malta_name, "EUR", 1, D("20.00"), D("0"), D("20.00"), D("0")),
        ("(no campaign)", "spring-cash", spring_name, "GBP", 1, D("10.00"), D("0"), D("10.00"), D("0")),
    ]


def test_totals_per_currency(bonuses):
    assert run()["totals"] == [
        ("EUR", 1, D("20.00"), D("0"), D("20.00"), D("0")),
        ("GBP", 3, D("30.00"), D("10.00"), D("20.00"), D("3.00")),
    ]


def test_each_posting_counts_on_its_own_local_day(bonuses):
    # the award at 00:30 on 1 April (London) and the forfeit of Pd's March bonus on 2 April
    assert run(APRIL)["by_campaign"] == [
        ("(no campaign)", "spring-cash", bonuses["spring"].name, "GBP", 1, D("10.00"), D("10.00"), D("0"), D("0")),
    ]


@pytest.mark.parametrize("period", [MARCH, APRIL])
def test_the_bonus_cost_is_ggr_dailys_over_the_ledger(bonuses, period):
    ggr = DailyGgr()
    values, _, errors = ggr.clean(period, today=TODAY)
    assert errors == {}
    totals = next(table for table in ggr.tables(RunContext(), values) if table.name == "totals")
    position = [column.key for column in totals.columns].index("bonus_cost")
    from_ledger = {row[0]: row[position] for row in totals.rows}
    assert {row[0]: row[4] for row in run(period)["totals"]} == from_ledger


def test_a_jurisdiction_keeps_its_players_bonuses(bonuses):
    tables = run({**MARCH, "jurisdiction": "MT"})
    assert [row[:4] for row in tables["by_campaign"]] == [("(no campaign)", "mt-cash", bonuses["malta"].name, "EUR")]
    assert [row[0] for row in tables["totals"]] == ["EUR"]


def test_the_same_data_gives_the_same_rows_twice(bonuses):
    assert run() == run()


def test_it_refuses_an_end_before_the_start():
    report = BonusCost()
    values, _, errors = report.clean({"start": "2026-03-31", "end": "2026-03-01"}, today=TODAY)
    assert errors == {} and report.check(values, None) == {"end": "The end is before the start."}


def test_crm_managers_and_finance_may_run_it_aml_analysts_may_not(crm_manager, finance_officer, aml_analyst):
    assert BonusCost.permission == "reports.run_marketing"
    assert crm_manager.has_perm(BonusCost.permission) and finance_officer.has_perm(BonusCost.permission)
    assert not aml_analyst.has_perm(BonusCost.permission)
