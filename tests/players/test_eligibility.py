"""Every reason code of can(), the restrictions, and the one-query promise."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.services import SystemActor
from apps.geo.models import IpOverride, RulePack
from apps.geo.services import geo_config_save
from apps.players.eligibility import can, can_for_external_id
from apps.players.services import player_set_block, player_set_status
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
GB_IP, US_IP, DE_IP = "81.2.69.160", "8.8.8.8", "5.9.0.1"
# Age tests run on a fixed day, so that birth dates are literals: "today minus 17 years" is no date on 29 February,
# and an age computed from the real calendar drifts with it.
on_a_fixed_day = time_machine.travel(datetime(2026, 11, 22, 12, 0, tzinfo=UTC), tick=False)
STAFF = SystemActor("tests")


def reasons(player, action, **kw):
    return can(player, action, **kw).reasons


def test_an_adult_gb_player_may_do_everything(player):
    for action in ("login", "deposit", "bet", "game_launch", "withdraw", "bonus"):
        assert can(player, action, ip=GB_IP).allowed, action


@pytest.mark.parametrize(
    ("status", "code"),
    [("suspended", "account_suspended"), ("blocked", "account_blocked"), ("closed", "account_closed")],
)
def test_a_non_active_account_is_refused_everything(player, status, code):
    player_set_status(actor=STAFF, player=player, status=status, reason="test")
    for action in ("login", "deposit", "bet", "withdraw", "marketing"):
        assert code in reasons(player, action), action


@pytest.mark.parametrize(
    ("capability", "action", "code"),
    [
        ("deposit", "deposit", "blocked_for_deposit"),
        ("bet", "bet", "blocked_for_bet"),
        ("bet", "game_launch", "blocked_for_bet"),
        ("withdrawal", "withdraw", "blocked_for_withdrawal"),
        ("bonus", "bonus", "blocked_for_bonus"),
        ("marketing", "marketing", "blocked_for_marketing"),
    ],
)
def test_each_capability_block_refuses_its_action_only(capability, action, code):
    player = PlayerFactory(marketing_email=True)
    player_set_block(actor=STAFF, player=player, capability=capability, blocked=True, reason="test")
    assert reasons(player, action) == [code]
    assert can(player, "login").allowed


@on_a_fixed_day
def test_underage_for_the_jurisdiction():
    teen = PlayerFactory(date_of_birth=date(2008, 11, 23))  # 18 tomorrow
    assert "underage" in reasons(teen, "login")
    assert not reasons(PlayerFactory(date_of_birth=date(2008, 11, 22)), "login")  # 18 today
    ontario_18 = PlayerFactory(country="CA", region="CA-ON", currency="CAD", date_of_birth=date(2008, 11, 1))
    assert "underage" in reasons(ontario_18, "login")  # Ontario: 19


@pytest.mark.parametrize(
    ("today", "underage"),
    [(datetime(2026, 2, 28, 12, tzinfo=UTC), True), (datetime(2026, 3, 1, 12, tzinfo=UTC), False)],
)
def test_a_leap_day_birthday_counts_from_the_first_of_march_in_other_years(today, underage):
    with time_machine.travel(today, tick=False):
        leapling = PlayerFactory(date_of_birth=date(2008, 2, 29))
        assert ("underage" in reasons(leapling, "login")) is underage


def test_residence_in_an_unlicensed_or_unknown_market_is_blocked_but_may_withdraw():
    for country, region in (("FR", ""), ("US", "US-NY"), ("BR", "")):
        p = PlayerFactory(country=country, region=region, currency="EUR")
        assert "jurisdiction_blocked" in reasons(p, "login"), country
        assert can(p, "withdraw").allowed, country


def test_a_licensed_us_state_is_its_own_jurisdiction():
    nj = PlayerFactory(country="US", region="US-NJ", currency="USD", date_of_birth=date(1990, 1, 1))
    result = can(nj, "login", ip=US_IP)
    assert result.allowed and result.jurisdiction == "US-NJ"


def test_an_ip_in_a_blocked_country_is_refused(player):
    assert reasons(player, "login", ip=US_IP) == ["ip_country_blocked"]


def test_ip_country_mismatch_where_presence_is_required():
    de = PlayerFactory(country="DE", currency="EUR")
    assert can(de, "bet", ip=DE_IP).allowed
    assert reasons(de, "bet", ip=GB_IP) == ["ip_country_mismatch"]
    assert reasons(de, "bet", ip="10.1.2.3") == ["ip_country_unknown"]
    gb_abroad = PlayerFactory()  # GB does not require presence
    assert can(gb_abroad, "bet", ip=DE_IP).allowed


def test_the_ip_override_list_blocks_a_vpn_exit_and_relocates_a_test_office(player):
    geo_config_save(
        actor=STAFF, obj=IpOverride(network="81.2.69.0/24", action="block", reason="VPN exit"), created=True, changed=[]
    )
    assert reasons(player, "login", ip=GB_IP) == ["ip_blocked"]
    assert can(player, "withdraw", ip="81.2.69.1").reasons == ["ip_blocked"]
    geo_config_save(
        actor=STAFF,
        obj=IpOverride(network="8.8.8.0/24", action="country", country="GB", reason="test office"),
        created=True,
        changed=[],
    )
    assert can(player, "login", ip=US_IP).allowed


def test_a_currency_the_jurisdiction_does_not_allow():
    p = PlayerFactory(currency="EUR")
    assert reasons(p, "deposit") == ["currency_not_allowed"]
    assert can(p, "login").allowed


def test_marketing_needs_a_consent():
    assert reasons(PlayerFactory(), "marketing") == ["no_marketing_consent"]
    assert can(PlayerFactory(marketing_sms=True), "marketing").allowed


@on_a_fixed_day
def test_gb_stake_caps_by_age_and_the_stake_check():
    young = PlayerFactory(date_of_birth=date(2006, 11, 1))  # 20
    older = PlayerFactory(date_of_birth=date(1980, 1, 1))
    assert can(young, "bet").restrictions["max_stake"] == {"slots": {"amount": "2.00", "currency": "GBP"}}
    assert can(older, "bet").restrictions["max_stake"] == {"slots": {"amount": "5.00", "currency": "GBP"}}
    assert can(older, "bet").restrictions["min_spin_seconds"] == "2.5"
    assert reasons(young, "bet", amount=Decimal("2.50"), game_category="slots") == ["stake_limit_exceeded"]
    assert can(young, "bet", amount=Decimal("2.00"), game_category="slots").allowed
    assert can(young, "bet", amount=Decimal("50.00"), game_category="table").allowed


def test_de_and_nl_restrictions():
    de = PlayerFactory(country="DE", currency="EUR")
    r = can(de, "game_launch", ip=DE_IP).restrictions
    assert r["max_stake"]["slots"]["amount"] == "1.00"
    assert (r["min_spin_seconds"], r["session_break_minutes"], r["session_break_after_minutes"]) == ("5.0", 5, 60)
    nl = PlayerFactory(country="NL", currency="EUR")
    assert can(nl, "login").restrictions == {"reality_check_minutes": 30}


@on_a_fixed_day
def test_several_reasons_are_all_reported():
    p = PlayerFactory(country="FR", currency="EUR", date_of_birth=date(2010, 11, 22))  # 16
    player_set_block(actor=STAFF, player=p, capability="bet", blocked=True, reason="test")
    assert set(reasons(p, "bet", ip=US_IP)) == {
        "blocked_for_bet",
        "underage",
        "jurisdiction_blocked",
        "ip_country_blocked",
    }


def test_an_edited_rule_pack_takes_effect_on_the_next_check(player):
    assert can(player, "login").allowed
    pack = RulePack.objects.filter(jurisdiction__code="GB").order_by("-effective_from").first()
    pack.visiting_blocked = True
    geo_config_save(actor=STAFF, obj=pack, created=False, changed=["visiting_blocked"])
    assert reasons(player, "login") == ["jurisdiction_blocked"]


@on_a_fixed_day
def test_a_future_rule_pack_waits_for_its_date(player):
    from datetime import timedelta

    from django.utils import timezone

    current = RulePack.objects.filter(jurisdiction__code="GB").order_by("-effective_from").first()
    future = RulePack.objects.get(pk=current.pk)
    future.pk = None
    future.effective_from = timezone.now() + timedelta(days=1)
    future.min_age = 21
    geo_config_save(actor=STAFF, obj=future, created=True, changed=["min_age"])
    young = PlayerFactory(date_of_birth=date(2007, 11, 1))  # 19
    assert can(young, "login").allowed
    assert "underage" in can(young, "login", now=timezone.now() + timedelta(days=2)).reasons


def test_the_api_path_answers_with_one_query(player):
    can_for_external_id(player.external_id, "bet", ip=GB_IP)  # the rules snapshot is loaded
    with CaptureQueriesContext(connection) as queries:
        result = can_for_external_id(player.external_id, "bet", ip=GB_IP)
    assert result is not None and result.allowed
    assert len(queries) == 1


def test_status_changes_are_never_served_stale(player):
    assert can_for_external_id(player.external_id, "bet").allowed
    player_set_status(actor=STAFF, player=player, status="blocked", reason="fraud")
    assert can_for_external_id(player.external_id, "bet").reasons == ["account_blocked"]


def test_an_unknown_action_is_refused():
    with pytest.raises(ValueError):
        can(PlayerFactory(), "fly")
