"""The platform's bonus API: the player's bonuses with wagering progress and the contribution table, what is
available (nothing for an excluded player), claiming by code or offer (idempotent), cancelling, and the withdrawal
preview; every error code the endpoints name, never a 500 on hostile bodies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.bonuses import awards
from apps.bonuses.choices import BonusState, Source
from apps.bonuses.models import PlayerBonus
from tests.bonuses.conftest import bet, deposit, gb_match, gb_player, published

pytestmark = pytest.mark.django_db
D = Decimal


def url(player, tail=""):
    return f"/api/v1/players/{player.external_id}/{tail}"


def claim(api, player, body, key="k1"):
    return api.post(url(player, "bonuses/claim/"), body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_claim_by_code_then_list_with_progress(platform_client, crm):
    published(crm, gb_match(bonus_code="WELCOME100", budget="1000.00"))
    player = gb_player()
    deposit(player, "40.00")
    api = platform_client.api()
    r = claim(api, player, {"code": "welcome100", "deposit_amount": "40.00"})
    assert r.status_code == 201, r.json()
    bonus = r.json()["bonus"]
    assert bonus["state"] == "active" and bonus["amount"] == "40.00" and bonus["wagering"]["required"] == "400.0000"
    assert {"game_category": "slots", "percent": "100"} in bonus["wagering"]["contributions"]
    again = claim(api, player, {"code": "welcome100", "deposit_amount": "40.00"})
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert PlayerBonus.objects.count() == 1
    bet(player, "2.00")
    listed = api.get(url(player, "bonuses/")).json()["bonuses"]
    assert listed[0]["wagering"]["done"] == "2.0000" and listed[0]["wagering"]["percent"] == "0.50"


def test_available_offers_and_codes_and_nothing_for_an_excluded_player(platform_client, crm):
    from apps.responsible.services import self_exclude

    offered = published(crm, gb_match(type="cash", percent=None, min_deposit=None, amount="5.00", budget="100.00"))
    published(crm, gb_match(bonus_code="RELOAD50", budget="100.00"))
    player = gb_player()
    offer = awards.bonus_offer(actor=None, player=player, template=offered, source=Source.CAMPAIGN)
    api = platform_client.api()
    available = api.get(url(player, "bonuses/available/")).json()["available"]
    assert [a["offer_id"] for a in available] == [offer.pk, None] and available[1]["needs_code"] is True
    r = claim(api, player, {"offer_id": offer.pk}, key="o1")
    assert r.status_code == 201 and r.json()["bonus"]["state"] == "active"
    self_exclude(actor=None, player=player, term="6m")
    assert api.get(url(player, "bonuses/available/")).json() == {"available": []}


def test_claim_refusals(platform_client, crm):
    published(crm, gb_match(bonus_code="WELCOME100", budget="1000.00"))
    player = gb_player()
    api = platform_client.api()
    assert claim(api, player, {"code": "NOPE"}, key="a").json()["code"] == "bonus_code_invalid"
    assert claim(api, player, {}, key="b").json()["code"] == "invalid"
    assert claim(api, player, {"code": "WELCOME100", "deposit_amount": 40}, key="c").json()["code"] == "invalid"
    refused = claim(api, player, {"code": "WELCOME100"}, key="d")
    assert refused.status_code == 403 and refused.json()["fields"]["reasons"] == ["deposit_required"]
    assert (
        claim(api, player, {"code": "WELCOME100", "deposit_amount": "4.001"}, key="e").json()["code"]
        == "amount_invalid"
    )
    assert claim(api, player, {"offer_id": 999999}, key="f").json()["code"] == "bonus_not_found"
    missing = api.post(url(player, "bonuses/claim/"), {"code": "WELCOME100"}, format="json")
    assert missing.json()["code"] == "idempotency_key_required"


@pytest.mark.parametrize(
    "body",
    [{"code": "\x00"}, {"code": "A" * 5000}, {"offer_id": 10**30}, {"offer_id": True}, [1, 2], {"code": {"a": [[[]]]}}],
)
def test_hostile_claims_are_400s(platform_client, body):
    r = claim(platform_client.api(), gb_player(), body, key="h")
    assert r.status_code == 400 and r.json()["code"] in ("invalid", "parse_error")


def test_the_player_cancels_and_the_preview_says_what_a_withdrawal_would_do(platform_client, crm):
    template = published(crm, gb_match(budget="1000.00"))
    player = gb_player()
    deposit(player, "20.00")
    bonus = awards.bonus_award(
        actor=None, player=player, template=template, source=Source.DEPOSIT, deposit_amount=D("20")
    )
    api = platform_client.api()
    preview = api.get(url(player, "withdrawals/preview/")).json()
    assert preview["consequence"] == "forfeit" and preview["forfeited_amount"] == "20.0000"
    r = api.post(
        url(player, f"bonuses/{bonus.pk}/cancel/"), {"reason": "Not for me"}, format="json", HTTP_IDEMPOTENCY_KEY="x"
    )
    assert r.status_code == 200 and r.json()["bonus"]["state"] == "cancelled"
    again = api.post(url(player, f"bonuses/{bonus.pk}/cancel/"), {}, format="json", HTTP_IDEMPOTENCY_KEY="y")
    assert again.status_code == 409 and again.json()["code"] == "bonus_not_active"
    other = api.post(url(gb_player(), f"bonuses/{bonus.pk}/cancel/"), {}, format="json", HTTP_IDEMPOTENCY_KEY="z")
    assert other.status_code == 404 and other.json()["code"] == "bonus_not_found"
    assert api.get(url(player, "withdrawals/preview/")).json()["consequence"] == "none"
    assert PlayerBonus.objects.get().state == BonusState.CANCELLED


def test_the_endpoints_need_their_scopes(crm):
    from apps.api.scopes import Scope
    from tests.conftest import make_platform_client

    reader = make_platform_client(scopes=[Scope.PLAYERS_READ]).api()
    player = gb_player()
    assert reader.get(url(player, "bonuses/")).status_code == 200
    assert claim(reader, player, {"code": "X"}).status_code == 403
