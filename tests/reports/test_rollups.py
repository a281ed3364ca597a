"""Operator day rollups: counted from the posting events in batches, rebuilt and checked against the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from apps.reports import rollups
from apps.reports.models import OperatorDay
from apps.wallet import posting
from tests.factories import PlayerFactory

D = Decimal


def bet(player, amount, ref, round_id="r", category="table", provider="netent"):
    return posting.wallet_bet(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=round_id,
        game_category=category,
        provider=provider,
        reference=ref,
        api_client="pfx",
    )


def win(player, amount, ref, round_id="r", category="table", provider="netent"):
    return posting.wallet_win(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=round_id,
        game_category=category,
        provider=provider,
        reference=ref,
        api_client="pfx",
    )


def rows(**filters):
    """key -> (amount, cash_amount, bonus_amount, count), without the day, jurisdiction, brand and currency."""
    found = OperatorDay.objects.filter(**filters).order_by("type", "game_category", "provider")
    return {(r.type, r.game_category, r.provider): (r.amount, r.cash_amount, r.bonus_amount, r.count) for r in found}


@pytest.mark.django_db
def test_rebuild_fills_the_days_from_the_ledger_and_replaces_what_was_there():
    player = PlayerFactory()
    with time_machine.travel(datetime(2027, 3, 10, 12, 0, tzinfo=UTC), tick=False):
        posting.wallet_deposit(player=player, amount=D("50.00"), currency="GBP")
        bet(player, "10.00", "b1")
        win(player, "4.00", "w1")
    rollups.drain()  # counted by the consumer once
    OperatorDay.objects.update(amount=D("999"))  # whatever was there goes
    assert rollups.rebuild(date(2027, 3, 10), date(2027, 3, 10)) == 3
    assert rows(day=date(2027, 3, 10), jurisdiction="GB", currency="GBP", brand_id=player.brand_id) == {
        ("bet", "table", "netent"): (D("10.00"), D("-10.00"), D("0"), 1),
        ("deposit", "", ""): (D("50.00"), D("50.00"), D("0"), 1),
        ("win", "table", "netent"): (D("4.00"), D("4.00"), D("0"), 1),
    }
    assert rollups.check() == []
