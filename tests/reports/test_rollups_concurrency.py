"""Operator day rollups under concurrency, on committed data: a drain killed midway, drains in parallel, rebuilds
beside drains and postings, the nudge after commit."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum

from apps.reports import rollups
from apps.reports.models import OperatorDay
from apps.wallet import events, posting
from apps.wallet.models import LedgerTransaction, PostingQueueItem
from tests.dbroles import as_owner
from tests.factories import PlayerFactory

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


def deposit(player, amount="5.00"):
    posting.wallet_deposit(player=player, amount=D(amount), currency=player.currency)


def bet(player, ref, amount="1.00", provider="netent"):
    posting.wallet_bet(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=ref,
        game_category="table",
        provider=provider,
        reference=ref,
        api_client="pfx",
    )


def queued() -> int:
    return PostingQueueItem.objects.filter(consumer=rollups.CONSUMER).count()


def counted() -> int:
    return OperatorDay.objects.aggregate(n=Sum("count"))["n"] or 0


def in_thread(target: Callable[[], object], errors: list[BaseException]) -> threading.Thread:
    """``target`` on its own connection, closed at the end; what it raises lands in ``errors``."""

    def run() -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def waits_on_a_lock(pid: int, kind: str | None = None, seconds: float = 10.0) -> bool:
    """Whether backend ``pid`` comes to wait on a heavyweight lock (of ``kind``: advisory, transactionid...)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with as_owner(), connection.cursor() as cursor:  # another session's wait is shown to its own login role
            cursor.execute("SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
        if row and row[0] == "Lock" and (kind is None or row[1] == kind):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def handler_hook() -> Iterator[Callable[[Callable[[events.Claimed], None]], None]]:
    """Replace the consumer's handler with ``wrap(claimed)`` (which may call ``rollups._handle``) for a test."""

    def install(wrap: Callable[[events.Claimed], None]) -> None:
        events.register_batch_consumer(rollups.CONSUMER, wrap, task=rollups.DRAIN_TASK, queue="reports")

    yield install
    rollups.register()


def test_a_drain_killed_after_its_upsert_loses_nothing_and_counts_nothing_twice(geo_rules, handler_hook):
    players = [PlayerFactory() for _ in range(3)]
    deposit(players[0], "1.00")
    rollups.drain()
    for i, player in enumerate(players):
        deposit(player, f"{i + 2}.00")
        bet(player, f"b{i}")
    assert queued() == 6
    inside, pid = threading.Event(), []

    def upsert_then_hang(claimed: events.Claimed) -> None:
        rollups._handle(claimed)  # the deltas are written in the drain's transaction...
        pid.append(backend_pid())
        inside.set()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(10)")  # ... and the drain dies before it deletes the rows and commits

    handler_hook(upsert_then_hang)
    errors: list[BaseException] = []
    thread = in_thread(lambda: rollups.drain(), errors)
    assert inside.wait(10)
    with as_owner(), connection.cursor() as cursor:  # the worker's session is the owner's login
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid[0]])
    thread.join(15)
    assert errors, "the killed drain's transaction failed"
    assert queued() == 6 and counted() == 1  # rolled back whole: the rows wait, the rollups are as before
    rollups.register()
    assert rollups.drain().processed == 6  # the next drain
    assert counted() == LedgerTransaction.objects.count() == 7
    assert rollups.check() == []


def test_drains_in_parallel_claim_disjoint_rows_and_count_each_posting_once(geo_rules):
    players = [PlayerFactory() for _ in range(12)]
    for i, player in enumerate(players):
        deposit(player, "20.00")
        for j in range(4):
            bet(player, f"b{i}-{j}", provider=("netent", "evolution", "pragmatic")[j % 3])
    assert queued() == 60
    done: list[int] = []
    lock, start = threading.Lock(), threading.Barrier(3)

    def drainer() -> None:
        start.wait(10)
        got = rollups.drain(batch=7).processed
        with lock:
            done.append(got)

    errors: list[BaseException] = []
    threads = [in_thread(drainer, errors) for _ in range(3)]
    for thread in threads:
        thread.join(30)
    assert not errors
    assert sum(done) == 60 and queued() == 0  # every row once, whichever drain took it
    assert counted() == 60
    assert rollups.check() == []


def test_a_rebuild_waits_for_a_drain_in_progress_and_a_drain_waits_for_a_rebuild(geo_rules, handler_hook):
    player = PlayerFactory()
    deposit(player, "10.00")
    bet(player, "b1")
    inside, release = threading.Event(), threading.Event()

    def slow(claimed: events.Claimed) -> None:
        rollups._handle(claimed)
        inside.set()
        release.wait(10)

    handler_hook(slow)
    errors: list[BaseException] = []
    draining = in_thread(lambda: rollups.drain(), errors)
    assert inside.wait(10)
    pid: list[int] = []

    def rebuild() -> None:
        pid.append(backend_pid())
        rollups.rebuild()

    rebuilding = in_thread(rebuild, errors)
    while not pid:
        time.sleep(0.01)
    assert waits_on_a_lock(pid[0], "advisory")  # the drain holds the shared lock while it writes
    release.set()
    draining.join(10)
    rebuilding.join(10)
    assert not errors
    assert queued() == 0 and counted() == 2 and rollups.check() == []

    # and the other way round: a drain that comes while a rebuild holds the lock waits for it
    handler_hook(rollups._handle)
    bet(player, "b2")
    held, let_go = threading.Event(), threading.Event()

    def rebuild_in_progress() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [rollups.LOCK_KEY])
            held.set()
            let_go.wait(10)

    holder = in_thread(rebuild_in_progress, errors)
    assert held.wait(10)
    drain_pid: list[int] = []

    def drain() -> None:
        drain_pid.append(backend_pid())
        rollups.drain()

    draining = in_thread(drain, errors)
    while not drain_pid:
        time.sleep(0.01)
    assert waits_on_a_lock(drain_pid[0], "advisory")
    assert queued() == 1
    let_go.set()
    holder.join(10)
    draining.join(10)
    assert not errors and queued() == 0 and counted() == 3 and rollups.check() == []


def test_rebuilds_while_postings_arrive_and_drains_run_stay_exact(geo_rules):
    players = [PlayerFactory() for _ in range(4)] + [PlayerFactory(country="MT", currency="EUR")]
    for player in players:
        deposit(player, "500.00")
    stop = threading.Event()
    errors: list[BaseException] = []

    def poster(player, seed: int) -> None:
        rng = random.Random(seed)
        for i in range(40):
            if rng.random() < 0.2:
                deposit(player, f"{rng.randint(1, 9)}.{rng.randint(0, 99):02d}")
            else:
                bet(player, f"p{player.pk}-{i}", amount=f"{rng.randint(1, 3)}.{rng.randint(0, 99):02d}")
            time.sleep(rng.random() * 0.01)

    def drainer() -> None:
        while not stop.is_set():
            rollups.drain(batch=random.randint(1, 25))
            time.sleep(0.005)

    posters = [in_thread(lambda p=p, s=s: poster(p, s), errors) for s, p in enumerate(players)]
    draining = in_thread(drainer, errors)
    rebuilds = 0
    while any(t.is_alive() for t in posters):
        rollups.rebuild()
        rebuilds += 1
    for thread in posters:
        thread.join(30)
    stop.set()
    draining.join(30)
    assert not errors
    assert rebuilds >= 3
    rollups.drain()
    assert queued() == 0
    assert counted() == LedgerTransaction.objects.count() == 5 + 5 * 40
    assert rollups.check() == []


def test_a_posting_nudges_the_rollups_drain_on_the_reports_queue(settings, geo_rules):
    import redis
    from django.conf import settings as conf

    settings.POSTING_EVENTS_NUDGE = True
    broker = redis.Redis.from_url(conf.CELERY_BROKER_URL)
    broker.delete("reports", "compliance")
    events._last_nudge = 0.0
    deposit(PlayerFactory())
    try:
        assert broker.llen("reports") == 1
        message = json.loads(broker.lindex("reports", 0))
        assert message["headers"]["task"] == rollups.DRAIN_TASK
        assert broker.llen("compliance") == 1  # the per-player consumers' drain, as before
    finally:
        broker.delete("reports", "compliance")
