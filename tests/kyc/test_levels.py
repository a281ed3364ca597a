"""KYC levels and requirements in ``can()`` and the wallet: each trigger and restriction in GB and MT (and the
markets that verify before play), the CDD threshold with real deposits through the wallet, the window, the
grace period, enhanced due diligence, staff requests, and the eligibility query staying one round trip."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.audit.services import SystemActor
from apps.core.errors import ReasonRequired
from apps.core.models import OutboxEvent
from apps.geo.models import RulePack
from apps.geo.services import geo_config_bump
from apps.kyc import levels
from apps.kyc.choices import RequirementState, Trigger
from apps.kyc.errors import LevelInvalid
from apps.kyc.models import KycProfile, Requirement
from apps.players import services as players
from apps.players.eligibility import can, can_for_external_id
from apps.players.models import Brand
from apps.wallet import posting
from apps.wallet.posting import PostingRefused
from apps.wallet.services import withdrawal_request
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("tests")
D = Decimal


def register(country: str, currency: str, n: int = 1, **changes):
    data = {
        "external_id": f"kyc-{country}-{n}",
        "username": f"kyc{country}{n}",
        "email": f"kyc-{country.lower()}-{n}@example.com",
        "first_name": "Ada",
        "last_name": "Byron",
        "date_of_birth": date(1985, 12, 10),
        "country": country,
        "currency": currency,
        "brand": Brand.objects.default(),
        **changes,
    }
    return players.player_register(actor=ACTOR, data=data)


def reasons(player, action, **kwargs):
    return can(player, action, ask_registers=False, **kwargs).reasons


# --- registration -----------------------------------------------------------------------------------------


def test_gb_verifies_identity_before_any_deposit_or_play_but_not_before_login(registers):
    player = register("GB", "GBP")
    requirement = Requirement.objects.get(player=player)
    assert (requirement.level, requirement.trigger, requirement.state) == (1, Trigger.REGISTRATION, "open")
    assert sorted(requirement.restricts) == ["bet", "deposit", "game_launch"]
    assert reasons(player, "login") == []
    for action in ("deposit", "bet", "game_launch"):
        assert reasons(player, action) == ["kyc_required"], action
    result = can(player, "deposit", ask_registers=False)
    assert result.restrictions["kyc"]["level"] == 0 and result.restrictions["kyc"]["level_needed"] == 1
    with pytest.raises(PostingRefused) as refused:
        posting.deposit(player=player, amount=D("10.00"), currency="GBP")
    assert refused.value.code == "kyc_required"

    levels.level_set(actor=ACTOR, player=player, level=1, why="passport approved")
    assert Requirement.objects.get(pk=requirement.pk).state == RequirementState.MET
    assert reasons(player, "deposit") == [] and reasons(player, "bet") == []
    posting.deposit(player=player, amount=D("10.00"), currency="GBP")
    # withdrawals need full verification everywhere
    assert reasons(player, "withdraw") == ["kyc_level_insufficient"]
    assert can(player, "withdraw", ask_registers=False).restrictions["kyc"]["level_needed"] == 2


def test_mt_lets_a_new_player_deposit_and_play_and_locks_only_withdrawals(registers):
    player = register("MT", "EUR")
    assert not Requirement.objects.filter(player=player).exists()
    assert KycProfile.objects.get(player=player).level == 0
    assert reasons(player, "deposit") == [] and reasons(player, "bet") == []
    assert reasons(player, "withdraw") == ["kyc_level_insufficient"]


@pytest.mark.parametrize("country,currency", [("DE", "EUR"), ("SE", "SEK"), ("NL", "EUR")])
def test_markets_that_verify_before_play_refuse_the_bet_not_the_deposit(registers, country, currency):
    player = register(country, currency)
    assert not {"kyc_required", "kyc_level_insufficient"} & set(reasons(player, "deposit"))  # SE: own limit first
    assert "kyc_required" in reasons(player, "bet")


def test_a_high_risk_residence_requires_enhanced_due_diligence(registers):
    RulePack.objects.filter(jurisdiction__code="MT").update(high_risk=True)
    geo_config_bump()
    player = register("MT", "EUR")
    requirement = Requirement.objects.get(player=player, trigger=Trigger.HIGH_RISK_COUNTRY)
    assert requirement.level == 3 and requirement.restricts == ["withdraw"]
    assert requirement.due_at > timezone.now() + timedelta(days=29)


# --- the CDD threshold through the wallet ------------------------------------------------------------------


def test_deposits_reaching_the_mt_threshold_lock_withdrawals_until_level_2_and_play_once_overdue():
    player = PlayerFactory(country="MT", currency="EUR", kyc_level=1)
    posting.deposit(player=player, amount=D("1500.00"), currency="EUR")
    assert not Requirement.objects.filter(player=player).exists()
    assert reasons(player, "withdraw") == ["kyc_level_insufficient"]  # the rule: level 2 for any withdrawal
    posting.deposit(player=player, amount=D("500.00"), currency="EUR")  # 2,000.00: the threshold itself
    requirement = Requirement.objects.get(player=player)
    assert (requirement.level, requirement.trigger) == (2, Trigger.CDD_THRESHOLD)
    assert requirement.detail["deposits"] == "2000.00" and requirement.detail["window"] == "180 days"
    assert requirement.restricts == ["withdraw"]
    assert sorted(requirement.restricts_when_overdue) == ["bet", "deposit", "game_launch"]
    assert reasons(player, "withdraw") == ["kyc_required"]
    assert can(player, "withdraw", ask_registers=False).restrictions["kyc"]["due_at"]
    with pytest.raises(PostingRefused) as refused:
        withdrawal_request(player=player, amount=D("100.00"), currency="EUR")
    assert refused.value.code == "kyc_required"
    assert reasons(player, "bet") == []  # within the grace period: play goes on
    posting.deposit(player=player, amount=D("50.00"), currency="EUR")  # the same requirement, not a second one
    assert Requirement.objects.filter(player=player).count() == 1

    later = requirement.due_at + timedelta(minutes=1)
    assert reasons(player, "bet", now=later) == ["kyc_required"]
    assert reasons(player, "deposit", now=later) == ["kyc_required"]

    levels.level_set(actor=ACTOR, player=player, level=2, why="address verified")
    assert reasons(player, "withdraw") == [] and reasons(player, "bet", now=later) == []
    withdrawal_request(player=player, amount=D("100.00"), currency="EUR")


def test_mt_counts_deposits_over_a_rolling_180_days():
    player = PlayerFactory(country="MT", currency="EUR", kyc_level=1)
    with time_machine.travel(timezone.now() - timedelta(days=200)):
        player.created_at = timezone.now()
        player.save(update_fields=["created_at"])
        posting.deposit(player=player, amount=D("1900.00"), currency="EUR")
    posting.deposit(player=player, amount=D("1000.00"), currency="EUR")
    assert not Requirement.objects.filter(player=player).exists()  # 1,000.00 in the window
    posting.deposit(player=player, amount=D("1000.00"), currency="EUR")
    assert Requirement.objects.get(player=player).detail["deposits"] == "2000.00"


def test_gb_counts_every_deposit_places_the_threshold_in_pounds_and_gives_one_day():
    player = PlayerFactory(country="GB", currency="GBP", kyc_level=1)
    posting.deposit(player=player, amount=D("1699.99"), currency="GBP")
    assert not Requirement.objects.filter(player=player).exists()
    posting.deposit(player=player, amount=D("0.01"), currency="GBP")  # 2,000 EUR at 0.85 is 1,700.00 GBP
    requirement = Requirement.objects.get(player=player)
    assert requirement.detail == {
        "deposits": "1700.00",
        "currency": "GBP",
        "window": "since registration",
        "threshold": "1700.00",
    }
    assert timedelta(hours=23) < requirement.due_at - timezone.now() <= timedelta(days=1)


def test_a_currency_without_a_rate_places_the_thresholds_at_zero(settings):
    settings.CURRENCY_RATES_PER_EUR = {k: v for k, v in settings.CURRENCY_RATES_PER_EUR.items() if k != "GBP"}
    player = PlayerFactory(country="GB", currency="GBP", kyc_level=1)
    posting.deposit(player=player, amount=D("1.00"), currency="GBP")
    # fail closed: no safe threshold, so the strictest (enhanced due diligence) from the first deposit
    assert Requirement.objects.get(player=player).trigger == Trigger.EDD_THRESHOLD


def test_deposits_reaching_the_edd_threshold_require_level_3(settings):
    settings.KYC_EDD_THRESHOLD_EUR = D("5000")
    player = PlayerFactory(country="MT", currency="EUR", kyc_level=2)
    posting.deposit(player=player, amount=D("4999.99"), currency="EUR")
    assert not Requirement.objects.filter(player=player).exists()  # level 2 already meets the CDD threshold
    posting.deposit(player=player, amount=D("0.01"), currency="EUR")
    requirement = Requirement.objects.get(player=player)
    assert (requirement.level, requirement.trigger) == (3, Trigger.EDD_THRESHOLD)
    assert reasons(player, "withdraw") == ["kyc_required"]
    assert can(player, "withdraw", ask_registers=False).restrictions["kyc"]["level_needed"] == 3


def test_a_verified_player_pays_only_one_profile_read_per_deposit():
    player = PlayerFactory(country="MT", currency="EUR", kyc_level=3)
    posting.deposit(player=player, amount=D("1.00"), currency="EUR")
    with CaptureQueriesContext(connection) as queries:
        posting.deposit(player=player, amount=D("1.00"), currency="EUR")
    kyc_reads = [q["sql"] for q in queries.captured_queries if "kyc_" in q["sql"]]
    # the eligibility row (its two KYC columns) and the observer's one read of the profile: no window sum
    assert len(kyc_reads) == 2 and "players_player p" in kyc_reads[0], kyc_reads


# --- staff, levels, the sweep -----------------------------------------------------------------------------


def test_staff_ask_for_a_level_with_a_reason_and_withdrawals_wait_for_it():
    player = PlayerFactory(country="MT", currency="EUR", kyc_level=2)
    officer = StaffUserFactory()
    with pytest.raises(ReasonRequired):
        levels.requirement_ask(actor=officer, player=player, level=3, reason="  ", compliance=True)
    requirement = levels.requirement_ask(
        actor=officer, player=player, level=3, reason="source of funds for large deposits", compliance=True
    )
    assert requirement is not None and requirement.trigger == Trigger.COMPLIANCE and requirement.created_by == officer
    assert reasons(player, "withdraw") == ["kyc_required"] and reasons(player, "bet") == []
    # a level the player already has raises nothing
    assert levels.requirement_ask(actor=officer, player=player, level=2, reason="again", compliance=False) is None


def test_levels_outside_the_scale_are_refused():
    player = PlayerFactory(kyc_level=0)
    with pytest.raises(LevelInvalid) as refused:
        levels.level_set(actor=ACTOR, player=player, level=4, why="no such level")
    assert refused.value.code == "kyc_level_invalid"
    with pytest.raises(LevelInvalid):
        levels.requirement_raise(
            actor=ACTOR, player=player, level=0, trigger=Trigger.STAFF, due_at=timezone.now(), restricts=("bet",)
        )


def test_a_level_change_is_audited_and_sent_to_the_platform():
    player = PlayerFactory(kyc_level=1)
    assert levels.level_set(actor=ACTOR, player=player, level=2, why="utility bill approved") == 1
    event = OutboxEvent.objects.filter(type="kyc.level_changed").latest("id")
    assert event.data == {"player": player.external_id, "level": 2, "previous_level": 1}
    from apps.audit.models import AuditEvent

    audited = AuditEvent.objects.filter(action="kyc.level_changed").latest("id")
    assert audited.data["from"] == 1 and audited.data["to"] == 2
    assert levels.level_set(actor=ACTOR, player=player, level=2, why="again") == 2  # no change, nothing written
    assert OutboxEvent.objects.filter(type="kyc.level_changed").count() == 1


def test_the_overdue_sweep_notes_each_requirement_once():
    player = PlayerFactory(country="MT", currency="EUR", kyc_level=1)
    officer = StaffUserFactory()
    levels.requirement_ask(
        actor=officer, player=player, level=2, reason="address", compliance=False, due_at=timezone.now()
    )
    assert levels.overdue_sweep(now=timezone.now() + timedelta(seconds=1)) == 1
    assert levels.overdue_sweep(now=timezone.now() + timedelta(seconds=2)) == 0
    assert OutboxEvent.objects.filter(type="kyc.requirement_overdue").count() == 1


def test_the_eligibility_check_stays_one_query():
    player = PlayerFactory(country="MT", currency="EUR", kyc_level=1)
    posting.deposit(player=player, amount=D("2500.00"), currency="EUR")  # an open requirement to read
    can_for_external_id(player.external_id, "withdraw")  # warm the geo snapshot
    with CaptureQueriesContext(connection) as queries:
        result = can_for_external_id(player.external_id, "withdraw")
    assert result.reasons == ["kyc_required"]
    assert len(queries.captured_queries) == 1


def test_the_first_withdrawal_without_full_verification_raises_the_withdrawal_requirement(platform_client):
    player = PlayerFactory(country="MT", currency="EUR", kyc_level=1)
    posting.deposit(player=player, amount=D("100.00"), currency="EUR")
    url = f"/api/v1/players/{player.external_id}/withdrawals/"
    body = {"amount": "10.00", "currency": "EUR"}
    refused = platform_client.api().post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="kyc-w1")
    assert refused.status_code == 403 and refused.json()["code"] == "kyc_level_insufficient"
    requirement = Requirement.objects.get(player=player)  # it outlived the refusal's rollback
    assert (requirement.level, requirement.trigger, requirement.restricts) == (2, Trigger.WITHDRAWAL, ["withdraw"])
    assert timedelta(days=29) < requirement.due_at - timezone.now() <= timedelta(days=30)
    # now a requirement refuses it; a replay of the same request raises nothing new
    assert reasons(player, "withdraw") == ["kyc_required"]
    again = platform_client.api().post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="kyc-w1")
    assert again.status_code == 403 and Requirement.objects.filter(player=player).count() == 1
    # another refusal reason raises none
    other = PlayerFactory(country="MT", currency="EUR", kyc_level=2)
    url = f"/api/v1/players/{other.external_id}/withdrawals/"
    assert platform_client.api().post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="kyc-w2").status_code == 409
    assert not Requirement.objects.filter(player=other).exists()
