"""Each bonuses error code, provoked once and named (the error catalogue's rule: a refusal is a promise)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.bonuses import awards, templates
from apps.bonuses.choices import Source
from apps.core.errors import ApplicationError
from apps.staff import roles
from tests.bonuses.conftest import gb_match, gb_player, published
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
D = Decimal


def code_of(call) -> str:
    with pytest.raises(ApplicationError) as excinfo:
        call()
    return excinfo.value.code


def test_every_bonuses_code(crm):
    cash = {"type": "cash", "percent": None, "min_deposit": None, "amount": "5.00"}
    assert code_of(lambda: templates.template_create(actor=crm, data=gb_match(name=""))) == "bonus_template_invalid"
    assert code_of(lambda: templates.template_create(actor=crm, data=gb_match(wagering_multiplier="11"))) == (
        "bonus_rule_violation"
    )
    support = StaffUserFactory(roles=[roles.SUPPORT_AGENT])
    assert code_of(lambda: templates.template_create(actor=support, data=gb_match())) == "bonus_not_permitted"
    draft = templates.template_create(actor=crm, data=gb_match(**cash, budget="10.00", max_recipients=1))
    player = gb_player()
    assert code_of(lambda: awards.bonus_award(actor=None, player=player, template=draft, source=Source.CAMPAIGN)) == (
        "bonus_template_state"
    )
    live = templates.template_publish(actor=crm, template=draft, reason="Go")
    assert (
        code_of(
            lambda: awards.bonus_award(
                actor=None, player=gb_player(currency="EUR"), template=live, source=Source.CAMPAIGN
            )
        )
        == "bonus_not_eligible"
    )
    bonus = awards.bonus_award(actor=None, player=player, template=live, source=Source.CAMPAIGN)
    assert code_of(
        lambda: awards.bonus_award(actor=None, player=gb_player(), template=live, source=Source.CAMPAIGN)
    ) == ("bonus_budget_exhausted")
    assert code_of(lambda: awards.bonus_claim(actor=None, player=player, code="NOPE")) == "bonus_code_invalid"
    assert code_of(lambda: awards.bonus_claim(actor=None, player=player, offer_id=10**9)) == "bonus_not_found"
    awards.bonus_cancel(actor=crm, bonus=bonus, reason="Test over")
    assert code_of(lambda: awards.bonus_cancel(actor=crm, bonus=bonus, reason="Test again")) == "bonus_not_active"
    again = published(crm, gb_match(**cash, budget="100.00"))
    awards.bonus_award(actor=None, player=player, template=again, source=Source.CAMPAIGN)
    assert code_of(lambda: awards.bonus_award(actor=None, player=player, template=again, source=Source.CAMPAIGN)) == (
        "bonus_already_claimed"
    )
    later = published(crm, gb_match(**cash, budget="100.00", valid_from="2099-01-01T00:00:00Z"))
    assert code_of(
        lambda: awards.bonus_award(actor=None, player=gb_player(), template=later, source=Source.CAMPAIGN)
    ) == ("bonus_expired")
