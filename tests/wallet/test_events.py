"""Posting events: one event per posting, in-transaction observers, durable consumers that never skip a row."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.wallet import events, posting
from apps.wallet.choices import TransactionType
from apps.wallet.models import LedgerTransaction, PostingQueueItem
from apps.wallet.services import withdrawal_cancel, withdrawal_request
from tests.dbroles import as_owner
from tests.factories import PlayerFactory

D = Decimal


@pytest.fixture
def observed():
    seen: list[events.PostingEvent] = []
    events.register_observer(seen.append)
    yield seen
    events.unregister_observer(seen.append)


@pytest.fixture
def durable():
    """A durable consumer that records what it got, per call (one player's events per call)."""
    calls: list[list[events.PostingEvent]] = []
    lock = threading.Lock()

    def handler(batch: list[events.PostingEvent]) -> None:
        with lock:
            calls.append(batch)

    events.register_consumer("tests.recorder", handler)
    yield calls
    events.unregister_consumer("tests.recorder")


def bet(player, amount, ref, round_id="r"):
    return posting.wallet_bet(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=round_id,
        game_category="slots",
        game_id="starburst",
        provider="netent",
        reference=ref,
        api_client="pfx",
    )


@pytest.mark.django_db
def test_every_kind_of_posting_produces_one_event_with_what_it_moved(observed):
    player = PlayerFactory()
    posting.wallet_deposit(
        player=player,
        amount=D("100.00"),
        currency="GBP",
        payment_method="card",
        instrument_fingerprint="f" * 64,
        api_client="pfx",
        reference="d1",
    )
    posting.wallet_bonus_award(player=player, amount=D("10.00"), currency="GBP", reference="b")
    posting.wallet_bet(
        player=player,
        amount=D("105.00"),  # 100 cash + 5 bonus
        currency="GBP",
        round_id="r",
        game_category="table",
        game_id="starburst",
        provider="netent",
        reference="b1",
        api_client="pfx",
    )
    posting.wallet_win(player=player, amount=D("21.00"), currency="GBP", round_id="r", reference="w1", api_client="pfx")
    posting.wallet_rollback(player=player, bet_reference="w1", api_client="pfx", of_type="win")
    posting.wallet_rollback(player=player, bet_reference="b1", api_client="pfx")
    posting.wallet_bonus_convert(player=player, amount=D("5.00"), currency="GBP")
    posting.wallet_bonus_forfeit(player=player, currency="GBP")
    withdrawal = withdrawal_request(player=player, amount=D("30.00"), currency="GBP")
    withdrawal_cancel(withdrawal=withdrawal, api_client="")
    types = [e.type for e in observed]
    assert types == [
        "deposit",
        "bonus_award",
        "bet",
        "win",
        "win_rollback",
        "rollback",
        "bonus_convert",
        "bonus_forfeit",
        "withdrawal",
        "withdrawal_cancel",
    ]
    by_type = {e.type: e for e in observed}
    deposit = by_type["deposit"]
    assert (deposit.payment_method, deposit.instrument_fingerprint, deposit.api_client) == ("card", "f" * 64, "pfx")
    assert (deposit.cash_part, deposit.bonus_part, deposit.amount, deposit.currency) == (D("100"), 0, D("100"), "GBP")
    staked = by_type["bet"]
    assert (staked.cash_part, staked.bonus_part) == (D("100.00"), D("5.00"))
    assert (staked.game_id, staked.game_category, staked.provider, staked.round_id) == (
        "starburst",
        "table",
        "netent",
        "r",
    )
    won = by_type["win"]
    assert won.cash_part + won.bonus_part == D("21.00") and won.bonus_part == D("1.00")  # 5/105 of the win
    assert by_type["rollback"].reverses_id == staked.transaction_id
    assert all(e.player_id == player.pk for e in observed)
    assert [e.transaction_id for e in observed] == list(
        LedgerTransaction.objects.filter(player=player).order_by("id").values_list("id", flat=True)
    )


@pytest.mark.django_db
def test_an_observer_runs_in_the_posting_transaction_and_what_it_raises_refuses_the_posting():
    player = PlayerFactory()

    def refuse(event: events.PostingEvent) -> None:
        raise RuntimeError("no")

    events.register_observer(refuse, types=["bet"])
    try:
        posting.wallet_deposit(player=player, amount=D("10.00"), currency="GBP")  # not a bet: not observed
        with pytest.raises(RuntimeError):
            bet(player, "1.00", "b1")
    finally:
        events.unregister_observer(refuse)
    assert list(LedgerTransaction.objects.filter(player=player).values_list("type", flat=True)) == ["deposit"]


@pytest.mark.django_db
def test_a_statement_observer_runs_inside_the_posting_statement_and_not_for_a_duplicate():
    player = PlayerFactory()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE observed (transaction_id bigint, amount numeric, category text)")

    def build(event: events.PostingEvent):
        assert event.transaction_id == 0  # the statement names it: t.id
        return "INSERT INTO observed SELECT t.id, %s, %s FROM t", [event.amount, event.game_category]

    events.register_statement_observer(build, types=["bet"])
    try:
        posting.wallet_deposit(player=player, amount=D("10.00"), currency="GBP")
        with CaptureQueriesContext(connection) as queries:
            placed = bet(player, "1.00", "b1").transaction
        statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert len(statements) == 3  # the lock, the eligibility facts, the write: none of the observer's own
        assert "INSERT INTO observed" in statements[-1]
        with pytest.raises(posting.DuplicateReference):
            bet(player, "1.00", "b1")
    finally:
        events.unregister_observer(build)
    with connection.cursor() as cursor:
        cursor.execute("SELECT transaction_id, amount, category FROM observed")
        assert cursor.fetchall() == [(placed.pk, D("1.00"), "slots")]


@pytest.mark.django_db
def test_a_durable_consumer_gets_only_its_types_in_order_and_its_rows_go_once_processed(durable):
    flags = PostingQueueItem.objects.filter(consumer="responsible.limit_flags")
    player = PlayerFactory()
    posting.wallet_deposit(player=player, amount=D("50.00"), currency="GBP")
    for i in range(3):
        bet(player, "1.00", f"b{i}")
    posting.wallet_win(player=player, amount=D("2.00"), currency="GBP", round_id="r", api_client="pfx")
    assert PostingQueueItem.objects.filter(consumer="tests.recorder").count() == 5  # every type
    assert flags.count() == 4  # the limit flags want deposits and bets only
    result = events.drain("tests.recorder")
    assert (result.processed, result.players) == (5, 1)
    assert [[e.type for e in batch] for batch in durable] == [["deposit", "bet", "bet", "bet", "win"]]
    assert not PostingQueueItem.objects.filter(consumer="tests.recorder").exists()
    assert flags.count() == 4  # another consumer's rows are its own
    assert events.drain("tests.recorder").processed == 0


@pytest.mark.django_db
def test_a_failing_handler_keeps_the_players_events_in_order_and_the_others_go_on():
    got: list[tuple[int, str]] = []
    bad = PlayerFactory()
    good = PlayerFactory()

    def handler(batch: list[events.PostingEvent]) -> None:
        if batch[0].player_id == bad.pk and not getattr(handler, "healed", False):
            got.append((batch[0].player_id, "boom"))
            raise ValueError("cannot handle this")
        got.extend((e.player_id, e.type) for e in batch)

    events.register_consumer("tests.flaky", handler)
    try:
        posting.wallet_deposit(player=bad, amount=D("5.00"), currency="GBP")
        posting.wallet_deposit(player=good, amount=D("5.00"), currency="GBP")
        bet(bad, "1.00", "b-bad")
        result = events.drain("tests.flaky")
        assert (result.processed, result.failed_players) == (1, 1)
        head = PostingQueueItem.objects.filter(consumer="tests.flaky").order_by("id").first()
        assert head.player_id == bad.pk and head.attempts == 1 and "ValueError: cannot handle this" in head.last_error
        assert PostingQueueItem.objects.filter(consumer="tests.flaky").count() == 2  # its later bet waits behind it
        backlog = {b.consumer: b for b in events.backlog()}["tests.flaky"]
        assert (backlog.rows, backlog.players, backlog.failing, backlog.registered) == (2, 1, 1, True)
        handler.healed = True  # type: ignore[attr-defined]
        assert events.drain("tests.flaky").processed == 2
        assert got == [(bad.pk, "boom"), (good.pk, "deposit"), (bad.pk, "deposit"), (bad.pk, "bet")]
    finally:
        events.unregister_consumer("tests.flaky")


@pytest.mark.django_db
def test_the_command_shows_the_backlog_and_names_rows_nobody_consumes(capsys):
    player = PlayerFactory()
    events.register_consumer("tests.gone", lambda batch: None)
    posting.wallet_deposit(player=player, amount=D("5.00"), currency="GBP")
    events.unregister_consumer("tests.gone")
    call_command("posting_events")
    out = capsys.readouterr().out
    assert "tests.gone: 1 waiting for 1 player(s)" in out and "NOT REGISTERED" in out
    assert "responsible.limit_flags: 1 waiting" in out
    call_command("posting_events", "--drain")
    out = capsys.readouterr().out
    assert "processed 3 event(s)" in out  # responsible.limit_flags, compliance.rules and bonuses.deposit_trigger
    assert "responsible.limit_flags: 0 waiting" in out and "compliance.rules: 0 waiting" in out


# --- after commit, for real: transactions that commit late, workers in parallel, a worker killed -------------


def _commit_deposit(player, amount="5.00"):
    posting.wallet_deposit(player=player, amount=D(amount), currency=player.currency)


def _operator_accounts() -> None:
    """The first posting of a currency creates the operator's accounts; a transaction left open on them would
    make every other first posting wait for it."""
    _commit_deposit(PlayerFactory())


@pytest.mark.django_db(transaction=True)
def test_a_row_committed_after_later_rows_were_processed_is_not_skipped(durable, geo_rules):
    _operator_accounts()
    early, late = PlayerFactory(), PlayerFactory()
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def long_transaction() -> None:
        try:
            with transaction.atomic():
                _commit_deposit(late)  # takes the lower id ...
                started.set()
                release.wait(10)  # ... and commits after the other one was processed
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=long_transaction)
    thread.start()
    assert started.wait(10)
    _commit_deposit(early)
    events.drain("tests.recorder")
    assert [b[0].player_id for b in durable][1:] == [early.pk]
    release.set()
    thread.join(10)
    assert not errors
    late_id = LedgerTransaction.objects.get(player=late).pk
    assert late_id < LedgerTransaction.objects.get(player=early).pk  # it was committed out of id order
    events.drain("tests.recorder")
    assert [b[0].player_id for b in durable][1:] == [early.pk, late.pk]
    assert not PostingQueueItem.objects.filter(consumer="tests.recorder").exists()


@pytest.mark.django_db(transaction=True)
def test_workers_in_parallel_process_every_event_once_and_each_players_in_order(durable, geo_rules):
    players = [PlayerFactory() for _ in range(6)]
    for round_ in range(5):
        for player in players:
            _commit_deposit(player, f"{round_ + 1}.00")
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            events.drain("tests.recorder", players=2, per_player=2)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    events.drain("tests.recorder")  # whatever a worker left when it found nothing more to claim
    seen = [e for batch in durable for e in batch]
    assert len(seen) == 30 and len({e.transaction_id for e in seen}) == 30
    for player in players:
        amounts = [e.amount for e in seen if e.player_id == player.pk]
        assert amounts == [D(f"{i}.00") for i in range(1, 6)]  # in posting order
    assert not PostingQueueItem.objects.filter(consumer="tests.recorder").exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_the_next_one_processes_everything(geo_rules):
    inside, got = threading.Event(), []
    pid: list[int] = []
    outcome: list[BaseException] = []

    def stuck(batch: list[events.PostingEvent]) -> None:
        if not pid:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid.append(cursor.fetchone()[0])
            inside.set()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(10)")  # the worker dies here
        got.extend(batch)

    events.register_consumer("tests.killed", stuck)
    try:
        player = PlayerFactory()
        for i in range(3):
            _commit_deposit(player, f"{i + 1}.00")

        def worker() -> None:
            try:
                events.drain("tests.killed")
            except BaseException as exc:
                outcome.append(exc)
            finally:
                connections.close_all()

        thread = threading.Thread(target=worker)
        thread.start()
        assert inside.wait(10)
        with as_owner(), connection.cursor() as cursor:  # the worker's session is the owner's login
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid[0]])
        thread.join(15)
        assert outcome, "the killed worker's transaction failed"
        assert PostingQueueItem.objects.filter(consumer="tests.killed").count() == 3  # rolled back, all there
        assert not got
        assert events.drain("tests.killed").processed == 3  # the next worker
        assert [e.amount for e in got] == [D("1.00"), D("2.00"), D("3.00")]
    finally:
        events.unregister_consumer("tests.killed")


@pytest.mark.django_db(transaction=True)
def test_a_posting_nudges_a_drain_after_commit_at_most_once_a_second(settings, geo_rules):
    import redis
    from django.conf import settings as conf

    settings.POSTING_EVENTS_NUDGE = True
    broker = redis.Redis.from_url(conf.CELERY_BROKER_URL)
    broker.delete("compliance")
    events._last_nudge = 0.0
    player = PlayerFactory()
    _commit_deposit(player)
    assert broker.llen("compliance") == 1  # one drain asked for, on the compliance queue
    _commit_deposit(player)
    assert broker.llen("compliance") == 1  # at most once a second per process
    broker.delete("compliance")
    assert LedgerTransaction.objects.filter(player=player).count() == 2


def test_the_beat_sweeps_the_queue_every_few_seconds_on_the_compliance_queue():
    from backoffice.schedule import SCHEDULE

    entry = next(e for e in SCHEDULE if e.task == "apps.wallet.tasks.posting_events_drain")
    assert (entry.every_seconds, entry.queue, entry.kwargs) == (5, "compliance", {"budget_seconds": 4.0})


def test_a_wallet_posting_type_without_a_rollup_rule_cannot_be_added_silently():
    from apps.wallet.rollups import DELTAS

    assert set(DELTAS) == set(TransactionType.values)


@pytest.mark.django_db
def test_metrics_show_the_queue_per_consumer(settings):
    from django.test import Client

    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", []
    posting.wallet_deposit(player=PlayerFactory(), amount=D("5.00"), currency="GBP")
    body = Client().get("/metrics").content.decode()
    assert 'pitboss_posting_events_waiting{consumer="responsible.limit_flags"} 1.0' in body
    assert 'pitboss_posting_events_failing{consumer="responsible.limit_flags"} 0.0' in body
    assert 'pitboss_posting_events_oldest_seconds{consumer="responsible.limit_flags"}' in body
