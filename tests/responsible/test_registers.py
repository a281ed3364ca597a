from __future__ import annotations

import pytest
from django.core.cache import cache

from apps.players.eligibility import can
from apps.responsible import registers as adapters
from apps.responsible.checks import subject_of
from apps.responsible.models import RegisterCheck
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ["gamstop", "spelpaus", "rofus", "oasis", "cruks", "igo"])
def test_every_adapter_reads_a_hit_and_a_miss_from_its_register(code, registers, player):
    subject = subject_of(player)
    assert adapters.ask(code, subject, point="login").excluded is False
    registers.excluded.add(player.last_name)
    cache.delete_pattern("rg:register:*")  # answers are cached for REGISTER_CACHE_SECONDS
    answer = adapters.ask(code, subject, point="login")
    assert answer.excluded is True and answer.reference.endswith("sandbox")
    sent = registers.requests[-1]
    assert sent[0] == code
    assert any(v == f"{code}-test-key" or v == f"Bearer {code}-test-key" for v in sent[2].values())


@pytest.mark.parametrize("mode", ["timeout", "error", "garbage"])
@pytest.mark.parametrize(("country", "currency", "register"), [("GB", "GBP", "gamstop"), ("DK", "DKK", "rofus")])
def test_registers_fail_closed_when_they_cannot_be_asked(registers, mode, country, currency, register):
    player = PlayerFactory(country=country, currency=currency)
    registers.modes[register] = mode
    registers.delay = 1.0
    assert can(player, "login").reasons == ["register_unavailable"]
    check = RegisterCheck.objects.get(player=player)
    assert check.outcome == "error" and check.point == "login"
    assert can(player, "withdraw").allowed  # withdrawals are not a register check point


def test_a_flaky_register_is_retried_with_backoff_and_its_answer_cached(registers, player):
    registers.modes["gamstop"] = "flaky:2"  # two 503s, then an answer: within the 2 retries
    assert can(player, "login").allowed
    assert len(registers.requests) == 3
    assert can(player, "login").allowed
    assert len(registers.requests) == 3  # the cache answered
    assert RegisterCheck.objects.filter(player=player, outcome="miss").count() == 1


def test_a_national_exclusion_refuses_login_and_marketing_in_two_jurisdictions(registers):
    registers.excluded.add("Excluded")
    briton = PlayerFactory(last_name="Excluded", marketing_email=True)
    dane = PlayerFactory(last_name="Excluded", country="DK", currency="DKK")
    assert can(briton, "login").reasons == ["self_excluded_national"]
    assert can(briton, "marketing").reasons == ["self_excluded_national"]
    assert can(dane, "login").reasons == ["self_excluded_national"]
    assert can(briton, "deposit").allowed  # GAMSTOP is asked at registration, login and marketing


def test_a_register_may_fail_open_where_the_rule_pack_says_so(registers, player):
    from apps.geo.models import RulePack
    from apps.geo.services import geo_config_save

    registers.modes["gamstop"] = "error"
    for pack in RulePack.objects.filter(jurisdiction__code="GB"):
        pack.register_fail_open = True
        geo_config_save(actor=None, obj=pack, changed=["register_fail_open"], created=False)
    assert can(player, "login").allowed


def test_registration_is_refused_for_a_nationally_excluded_person_or_when_the_register_is_down(
    registers,
    platform_client,
):
    api = platform_client.api()
    body = {
        "external_id": "new-1",
        "username": "newbie",
        "email": "new@example.com",
        "first_name": "Ann",
        "last_name": "Excluded",
        "date_of_birth": "1990-01-01",
        "country": "GB",
        "currency": "GBP",
    }
    registers.excluded.add("Excluded")
    r = api.post("/api/v1/players/", body, format="json")
    assert r.status_code == 400 and r.json()["code"] == "registration_refused"
    assert "self_excluded_national" in str(r.json()["fields"])
    registers.excluded.clear()
    cache.delete_pattern("rg:register:*")
    registers.modes["gamstop"] = "error"
    r = api.post("/api/v1/players/", body, format="json")
    assert r.status_code == 400 and "register_unavailable" in str(r.json()["fields"])
    registers.modes.clear()
    assert api.post("/api/v1/players/", body, format="json").status_code == 201
    assert RegisterCheck.objects.filter(subject="new-1", point="registration").count() == 3
