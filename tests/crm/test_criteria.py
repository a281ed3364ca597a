"""Each criterion, on a handful of factory players: exactly the players it should find, through the one query the
criteria compile to (segment_preview's exact count and its sample)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.crm import selectors, services
from apps.crm.errors import SegmentCriteriaInvalid
from apps.players.models import Player, Tag
from tests.crm.conftest import rollup
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db


def found(criteria: dict[str, Any], currency: str = "GBP") -> set[str]:
    query = selectors.segment_query(services.validated_criteria(criteria, currency=currency), currency=currency)
    count, exact = selectors.count(query)
    ids = {row["external_id"] for row in selectors.sample(query, size=1000)}
    assert exact and count == len(ids)
    return ids


def ext(*players: Player) -> set[str]:
    return {p.external_id for p in players}


def test_it_finds_everyone_without_criteria():
    a, b = PlayerFactory(), PlayerFactory()
    assert found({}) == ext(a, b)


def test_country_and_currency():
    gb, mt, se = (
        PlayerFactory(),
        PlayerFactory(country="MT", currency="EUR"),
        PlayerFactory(country="SE", currency="SEK"),
    )
    assert found({"country": ["gb", "MT"]}) == ext(gb, mt)
    assert found({"currency": ["SEK", "EUR"]}) == ext(mt, se)


def test_jurisdiction_is_the_region_own_else_the_country():
    gb = PlayerFactory()
    on = PlayerFactory(country="CA", region="CA-ON", currency="CAD")
    mt = PlayerFactory(country="MT", currency="EUR")
    assert found({"jurisdiction": ["GB", "CA-ON"]}) == ext(gb, on)
    assert found({"jurisdiction": ["MT"]}) == ext(mt)


def test_vip_tier():
    gold, none = PlayerFactory(vip_tier="gold"), PlayerFactory(vip_tier="")
    PlayerFactory(vip_tier="silver")
    assert found({"vip_tier": ["gold", ""]}) == ext(gold, none)


def test_tags_any_and_all():
    vip, roller = Tag.objects.create(name="vip"), Tag.objects.create(name="high-roller")
    both, one, neither = PlayerFactory(), PlayerFactory(), PlayerFactory()
    both.tags.add(vip, roller)
    one.tags.add(vip)
    assert neither.pk
    assert found({"tags": {"any": ["vip", "high-roller"]}}) == ext(both, one)
    assert found({"tags": {"all": ["vip", "high-roller"]}}) == ext(both)


def test_registration_date_range_includes_both_days():
    now = timezone.now()
    old = PlayerFactory(created_at=now - timedelta(days=400))
    recent = PlayerFactory(created_at=now - timedelta(days=10))
    PlayerFactory(created_at=now)
    start, end = (now - timedelta(days=10)).date().isoformat(), (now - timedelta(days=1)).date().isoformat()
    assert found({"registered": {"from": start, "to": end}}) == ext(recent)
    assert found({"registered": {"to": (now - timedelta(days=300)).date().isoformat()}}) == ext(old)


def test_last_login_within_and_not_within():
    now = timezone.now()
    lately = PlayerFactory(last_login_at=now - timedelta(days=2))
    long_ago = PlayerFactory(last_login_at=now - timedelta(days=60))
    never = PlayerFactory(last_login_at=None)
    assert found({"last_login": {"within_days": 7}}) == ext(lately)
    assert found({"last_login": {"not_within_days": 30}}) == ext(long_ago, never)


def test_deposits_lifetime_and_windowed_from_the_rollups():
    today = timezone.now().date()
    big, small, none = PlayerFactory(), PlayerFactory(), PlayerFactory()
    rollup(big, today - timedelta(days=100), deposits="900.00")
    rollup(big, today, deposits="100.00")
    rollup(small, today - timedelta(days=1), deposits="50.00")
    rollup(small, today, deposits="40.00", currency="EUR")  # another currency: not counted in GBP
    assert found({"deposits": {"min": "1000.00"}}) == ext(big)
    assert found({"deposits": {"min": "1000.01"}}) == set()
    assert found({"deposits": {"max": "50.00"}}) == ext(small, none)  # none deposited 0: inside the range
    assert found({"deposits": {"min": "50.00", "max": "100.00", "days": 30}}) == ext(big, small)
    assert found({"deposits": {"min": "0.01", "days": 1}}) == ext(big)


def test_ggr_is_stakes_less_wins():
    today = timezone.now().date()
    loser, winner, idle = PlayerFactory(), PlayerFactory(), PlayerFactory()
    rollup(loser, today, stakes="300.00", wins="100.00")
    rollup(winner, today, stakes="100.00", wins="250.00")
    assert found({"ggr": {"min": "200.00"}}) == ext(loser)
    assert found({"ggr": {"max": "-0.01"}}) == ext(winner)
    assert found({"ggr": {"min": "-1000", "max": "0"}}) == ext(winner, idle)


def test_kyc_level_with_and_without_a_profile():
    zero, two, three = PlayerFactory(kyc_level=0), PlayerFactory(kyc_level=2), PlayerFactory(kyc_level=3)
    no_profile = PlayerFactory()
    no_profile.kyc.delete()
    assert found({"kyc_level": {"min": 2}}) == ext(two, three)
    assert found({"kyc_level": {"max": 0}}) == ext(zero, no_profile)
    assert found({"kyc_level": {"min": 1, "max": 2}}) == ext(two)


def test_marketing_consent_per_channel():
    email = PlayerFactory(marketing_email=True)
    both = PlayerFactory(marketing_email=True, marketing_sms=True)
    nothing = PlayerFactory()
    assert found({"consent": {"email": True}}) == ext(email, both)
    assert found({"consent": {"email": True, "sms": False}}) == ext(email)
    assert found({"consent": {"post": False}}) == ext(email, both, nothing)


def test_criteria_combine_with_and():
    today = timezone.now().date()
    wanted = PlayerFactory(vip_tier="gold", marketing_email=True)
    PlayerFactory(vip_tier="gold")
    PlayerFactory(marketing_email=True)
    rollup(wanted, today, deposits="10.00")
    assert found({"vip_tier": ["gold"], "consent": {"email": True}, "deposits": {"min": "10"}}) == ext(wanted)


def test_it_estimates_when_the_planner_expects_many_rows(monkeypatch):
    PlayerFactory()
    monkeypatch.setattr(selectors, "EXACT_BELOW", 0)  # every plan is "big" now
    preview = selectors.preview({}, currency="")
    assert not preview.exact and preview.label == "estimate"
    assert len(preview.sample) == 1


def test_a_registered_criterion_of_another_app_compiles_into_the_same_query():
    from apps.crm import criteria

    def validate(value: Any) -> int:
        if not isinstance(value, int):
            raise criteria.CriterionInvalid("A number.")
        return value

    custom = criteria.Criterion(
        "test_min_id", "Test", validate, lambda value, ctx: criteria.Fragment("p.id >= %s", (value,))
    )
    criteria.register_criterion(custom)
    try:
        a, b = PlayerFactory(), PlayerFactory()
        assert found({"test_min_id": b.pk}) == ext(b) and a.pk < b.pk
    finally:
        criteria._registry.pop("test_min_id")


def test_an_app_below_the_crm_declares_a_criterion_without_importing_it():
    import sys
    import types

    from apps.crm import criteria

    def validate(value: Any) -> dict[str, int]:
        if not isinstance(value, dict) or not isinstance(value.get("min"), int):
            raise ValueError("Give the fewest bonuses, a whole number.")
        return {"min": value["min"]}

    module = types.ModuleType("apps.players.segment_criteria")
    module.CRITERIA = [  # type: ignore[attr-defined]
        {
            "name": "test_bonus_count",
            "label": "Bonuses received",
            "validate": validate,
            "build": lambda value: ("p.id >= %s", [value["min"]]),
        }
    ]
    sys.modules["apps.players.segment_criteria"] = module
    try:
        assert "test_bonus_count" in criteria.register_declared()  # beside the bonuses app's own bonus_count
        a, b = PlayerFactory(), PlayerFactory()
        assert found({"test_bonus_count": {"min": b.pk}}) == ext(b) and a.pk < b.pk
        with pytest.raises(SegmentCriteriaInvalid) as error:
            services.validated_criteria({"test_bonus_count": {"min": "x"}}, currency="")
        assert error.value.fields == {"test_bonus_count": ["Give the fewest bonuses, a whole number."]}
    finally:
        del sys.modules["apps.players.segment_criteria"]
        criteria._registry.pop("test_bonus_count", None)
