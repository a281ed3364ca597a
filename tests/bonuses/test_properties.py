"""Property-based: no template and no award that breaks a GB or SE bonus rule can be made, whatever the terms
(hypothesis draws them; the service either refuses or what it saved keeps the rules)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.bonuses import awards, templates
from apps.bonuses.choices import REPEAT_TYPES, BonusType, Product, Source
from apps.core.errors import ApplicationError
from tests.bonuses.conftest import gb_player

pytestmark = pytest.mark.django_db
_codes = itertools.count(1)
QUICK = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

money = st.one_of(st.none(), st.decimals(min_value=Decimal("0.01"), max_value=Decimal("20"), places=2).map(str))
terms = st.fixed_dictionaries(
    {
        "type": st.sampled_from(BonusType.values),
        "products": st.lists(st.sampled_from(Product.values), min_size=1, max_size=4, unique=True),
        "wagering_multiplier": st.integers(min_value=0, max_value=60).map(str),
        "max_bet": money,
        "days_to_wager": st.integers(min_value=1, max_value=120),
        "jurisdictions": st.sampled_from([["GB"], ["SE"], ["GB", "SE"]]),
        "percent": st.sampled_from(["50", "100"]),
        "amount": st.sampled_from(["10.00", "100.00"]),
        "spins_count": st.just(10),
        "spin_stake": st.just("0.10"),
        "games": st.just(["starburst"]),
        "cashback_days": st.just(7),
    }
)


def _data(drawn: dict) -> dict:
    currency = "SEK" if drawn["jurisdictions"] == ["SE"] else "GBP"
    return {"code": f"prop-{next(_codes)}", "name": "Property", "currency": currency, "budget": "100.00", **drawn}


@QUICK
@given(drawn=terms)
def test_no_saved_template_breaks_a_gb_or_se_rule(crm, drawn):
    try:
        template = templates.template_create(actor=crm, data=_data(drawn))
    except ApplicationError as exc:
        assert exc.code in ("bonus_template_invalid", "bonus_rule_violation")
        return
    if "GB" in template.jurisdictions:
        assert template.wagering_multiplier <= 10
        assert len(template.products) == 1
        assert template.currency == "GBP"
        if Product.CASINO in template.products:
            assert template.max_bet is not None and template.max_bet <= Decimal("5.00")
    if "SE" in template.jurisdictions:
        assert template.type not in REPEAT_TYPES and template.days_to_wager >= 60
        assert template.currency == "SEK"


@QUICK
@given(max_bet=st.decimals(min_value=Decimal("0.10"), max_value=Decimal("5.00"), places=2), age=st.integers(18, 80))
def test_no_gb_award_lets_a_player_bet_above_their_slot_cap(crm, max_bet, age):
    drawn = {"type": "cash", "products": ["casino"], "wagering_multiplier": "1", "max_bet": str(max_bet)}
    data = _data({**drawn, "jurisdictions": ["GB"]})
    data.update({"amount": "5.00", "budget": "10.00"})
    template = templates.template_publish(
        actor=crm, template=templates.template_create(actor=crm, data=data), reason="p"
    )
    player = gb_player(date_of_birth=date.today() - timedelta(days=365 * age + age // 4 + 2))
    try:
        bonus = awards.bonus_award(actor=None, player=player, template=template, source=Source.CAMPAIGN)
    except ApplicationError as exc:
        assert exc.code == "bonus_rule_violation" and exc.fields["rule"] == "max_bet_stake_cap"
        assert age <= 24 and max_bet > Decimal("2.00")
        return
    assert bonus.max_bet is not None and bonus.max_bet <= (Decimal("2.00") if age <= 24 else Decimal("5.00"))
