"""Deposit triggers (apps/bonuses/triggers.py): a durable consumer of deposits claims the deposit offer waiting
for the player or awards the published template with a deposit trigger. Drained synchronously in the test."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.bonuses import awards, templates, triggers
from apps.bonuses.choices import BonusState, Source
from apps.bonuses.errors import BonusTemplateInvalid
from apps.bonuses.models import PlayerBonus
from apps.wallet import events
from tests.bonuses.conftest import balances, deposit, gb_match, gb_player, published

pytestmark = pytest.mark.django_db
D = Decimal


def drain() -> None:
    events.drain(triggers.CONSUMER)


def bonuses_of(player) -> list[PlayerBonus]:
    return list(PlayerBonus.objects.filter(player=player).order_by("pk"))


def test_the_consumer_is_registered_for_deposits():
    assert triggers.CONSUMER in events.consumers_for("deposit")
    assert triggers.CONSUMER not in events.consumers_for("bet")


def test_a_first_deposit_match_is_awarded_with_exact_amounts(crm):
    template = published(crm, gb_match(trigger="first_deposit"))
    player = gb_player()
    txn = deposit(player, "50.00")
    drain()
    [bonus] = bonuses_of(player)
    assert bonus.template_id == template.pk and bonus.state == BonusState.ACTIVE
    assert (bonus.source, bonus.source_ref) == (Source.DEPOSIT, f"deposit-{txn}")
    assert bonus.amount == D("50.00") and bonus.deposit_amount == D("50.00")
    assert bonus.wagering_required == D("500.00")  # 10x the bonus
    assert balances(player) == {"cash": D("50.00"), "bonus": D("50.00")}


def test_the_cap_holds(crm):
    published(crm, gb_match(trigger="first_deposit"))
    player = gb_player()
    deposit(player, "250.00")
    drain()
    [bonus] = bonuses_of(player)
    assert bonus.amount == D("100.00")


def test_a_second_deposit_does_not_award_a_first_deposit_bonus(crm):
    player = gb_player()
    deposit(player, "20.00")
    drain()
    published(crm, gb_match(trigger="first_deposit"))
    deposit(player, "50.00")
    drain()
    assert bonuses_of(player) == []


def test_a_reload_is_awarded_on_each_deposit_while_none_is_active(crm):
    # no wagering: the bonus completes at once, so none is active at the next deposit
    published(crm, gb_match(type="reload", trigger="deposit", wagering_multiplier="0", per_player_limit=5))
    player = gb_player()
    deposit(player, "20.00")
    deposit(player, "30.00")
    drain()
    got = bonuses_of(player)
    assert [(b.amount, b.state) for b in got] == [
        (D("20.00"), BonusState.COMPLETED),
        (D("30.00"), BonusState.COMPLETED),
    ]


def test_a_reload_waits_while_a_bonus_is_active(crm):
    published(crm, gb_match(type="reload", trigger="deposit", per_player_limit=5))
    player = gb_player()
    deposit(player, "20.00")
    deposit(player, "30.00")
    drain()
    [bonus] = bonuses_of(player)  # the second refused (another_bonus_active), swallowed
    assert bonus.amount == D("20.00") and bonus.state == BonusState.ACTIVE


def test_the_highest_priority_template_is_awarded(crm):
    published(crm, gb_match(trigger="first_deposit", priority=1, amount="10.00", budget="500.00"))
    best = published(crm, gb_match(trigger="first_deposit", priority=5, budget="500.00"))
    assert best.state == "published"
    player = gb_player()
    deposit(player, "50.00")
    drain()
    [bonus] = bonuses_of(player)
    assert bonus.template_id == best.pk


def test_below_the_minimum_deposit_nothing_is_awarded(crm):
    published(crm, gb_match(trigger="first_deposit"))  # min_deposit GBP 10
    player = gb_player()
    deposit(player, "9.99")
    drain()
    assert bonuses_of(player) == []


def test_a_manual_template_is_not_awarded_on_a_deposit(crm):
    published(crm, gb_match())
    player = gb_player()
    deposit(player, "50.00")
    drain()
    assert bonuses_of(player) == []


def test_an_offered_deposit_bonus_is_claimed_by_the_deposit(crm):
    template = published(crm, gb_match())
    player = gb_player()
    offer = awards.bonus_offer(actor=None, player=player, template=template, source=Source.CAMPAIGN, source_ref="c1")
    deposit(player, "40.00")
    drain()
    [bonus] = bonuses_of(player)
    assert bonus.pk == offer.pk and bonus.state == BonusState.ACTIVE
    assert bonus.amount == D("40.00") and bonus.deposit_amount == D("40.00")
    assert bonus.wagering_required == D("400.00")


def test_a_self_excluded_player_gets_nothing(crm):
    from apps.responsible.services import self_exclude

    published(crm, gb_match(trigger="first_deposit"))
    player = gb_player()
    deposit(player, "50.00")
    self_exclude(actor=None, player=player, term="6m")
    drain()
    assert bonuses_of(player) == []


def test_a_redelivered_deposit_awards_once(crm):
    published(crm, gb_match(type="reload", trigger="deposit", wagering_multiplier="0", per_player_limit=5))
    player = gb_player()
    txn = deposit(player, "50.00")
    drain()
    event = events.PostingEvent(
        transaction_id=txn,
        type="deposit",
        player_id=player.pk,
        currency="GBP",
        amount=D("50.00"),
        cash_part=D("50.00"),
        bonus_part=D("0"),
        game_id="",
        game_category="",
        provider="",
        round_id="",
        payment_method="card",
        instrument_fingerprint="fp-1",
        api_client="pfx",
        reverses_id=None,
        created_at=player.created_at,
    )
    triggers.handle([event])
    triggers.handle([event])
    [bonus] = bonuses_of(player)
    assert bonus.source_ref == f"deposit-{txn}"


def test_a_trigger_on_a_non_deposit_type_is_refused(crm):
    data = gb_match(type="cash", percent=None, amount="10.00", trigger="first_deposit")
    with pytest.raises(BonusTemplateInvalid) as excinfo:
        templates.template_create(actor=crm, data=data)
    assert excinfo.value.code == "bonus_template_invalid"
    assert "trigger" in excinfo.value.fields


def test_an_unknown_trigger_is_refused(crm):
    with pytest.raises(BonusTemplateInvalid) as excinfo:
        templates.template_create(actor=crm, data=gb_match(trigger="birthday"))
    assert "trigger" in excinfo.value.fields
