"""Batch consumers of the posting events: many players' rows per transaction, for consumers that only sum."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.wallet import events, posting
from apps.wallet.models import LedgerTransaction, PostingQueueItem
from tests.factories import PlayerFactory

D = Decimal
NAME = "tests.batches"


@pytest.fixture
def claims():
    got: list[events.Claimed] = []
    events.register_batch_consumer(NAME, got.append, task="tests.nothing", queue="reports", types=["deposit", "bet"])
    yield got
    events.unregister_consumer(NAME)


def bet(player, ref):
    posting.wallet_bet(
        player=player, amount=D("1.00"), currency="GBP", round_id=ref, game_category="table", reference=ref
    )


@pytest.mark.django_db
def test_a_batch_holds_many_players_rows_of_its_types_bounded_and_in_id_order(claims):
    players = [PlayerFactory() for _ in range(3)]
    for player in players:
        posting.wallet_deposit(player=player, amount=D("5.00"), currency="GBP")
    bet(players[0], "b1")
    posting.wallet_bonus_award(player=players[1], amount=D("2.00"), currency="GBP")  # not its type
    assert PostingQueueItem.objects.filter(consumer=NAME).count() == 4
    result = events.drain_batches(NAME, batch=3)
    assert (result.processed, result.players, result.failed_players) == (4, 2, 0)  # players: batches
    assert [len(c.transaction_ids) for c in claims] == [3, 1]
    ids = [t for c in claims for t in c.transaction_ids]
    assert ids == list(
        LedgerTransaction.objects.exclude(type="bonus_award").order_by("id").values_list("id", flat=True)
    )
    assert {
        pid
        for c in claims[:1]
        for pid in LedgerTransaction.objects.filter(id__in=c.transaction_ids).values_list("player_id", flat=True)
    } == {p.pk for p in players}
    assert claims[1].cash_parts == [D("1.00")] and claims[1].bonus_parts == [D("0")]  # as queued: unsigned
    assert not PostingQueueItem.objects.filter(consumer=NAME).exists()
    assert events.drain(NAME).processed == 0  # drain() hands a batch consumer's name to drain_batches


@pytest.mark.django_db
def test_drain_of_every_consumer_leaves_batch_consumers_to_their_own_task(claims):
    posting.wallet_deposit(player=PlayerFactory(), amount=D("5.00"), currency="GBP")
    events.drain()
    assert not claims and PostingQueueItem.objects.filter(consumer=NAME).count() == 1
    assert events.drain_batches(NAME).processed == 1


@pytest.mark.django_db
def test_a_failing_batch_stays_queued_with_its_attempt_counted():
    def refuse(claimed: events.Claimed) -> None:
        raise ValueError("cannot sum this")

    events.register_batch_consumer(NAME, refuse, task="tests.nothing", queue="reports")
    try:
        posting.wallet_deposit(player=PlayerFactory(), amount=D("5.00"), currency="GBP")
        posting.wallet_deposit(player=PlayerFactory(), amount=D("6.00"), currency="GBP")
        result = events.drain_batches(NAME)
        assert (result.processed, result.failed_players) == (0, 1)
        rows = PostingQueueItem.objects.filter(consumer=NAME)
        assert [(r.attempts, r.last_error) for r in rows] == [(1, "ValueError: cannot sum this")] * 2
        backlog = {b.consumer: b for b in events.backlog()}[NAME]
        assert (backlog.rows, backlog.failing, backlog.registered) == (2, 2, True)
    finally:
        events.unregister_consumer(NAME)
    assert events.drain_batches(NAME).processed == 0  # unregistered: nothing drains it, its rows wait


def test_a_name_is_either_a_per_player_or_a_batch_consumer():
    events.register_consumer(NAME, lambda batch: None)
    try:
        with pytest.raises(ValueError):
            events.register_batch_consumer(NAME, lambda claimed: None, task="t", queue="reports")
    finally:
        events.unregister_consumer(NAME)
    events.register_batch_consumer(NAME, lambda claimed: None, task="t", queue="reports")
    try:
        with pytest.raises(ValueError):
            events.register_consumer(NAME, lambda batch: None)
    finally:
        events.unregister_consumer(NAME)
    with pytest.raises(ValueError):
        events.register_batch_consumer("", lambda claimed: None, task="t", queue="reports")
