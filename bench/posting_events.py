"""What posting events cost a bet, and whether a durable consumer keeps up.

Two threads post bets through the posting service (``wallet_bet``, the API's own call) for random funded players,
in rounds that alternate between no consumer at all (the baseline, measured in the same run) and one in-transaction
observer (one UPDATE of a per-player row) plus one durable consumer. While the consumers are on, a separate
process drains the queue as the Celery task does; the backlog is sampled every half second. Goal: bets with
consumers >= 0.9x bets without; the backlog does not grow (the drain keeps up with the peak bet rate).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, connections

from apps.players.models import Player
from apps.wallet.events import PostingEvent
from bench.players import ensure_players
from bench.wallet import _funded_players

ROUND_SECONDS = float(os.environ.get("BENCH_EVENTS_ROUND_SECONDS", "8"))
ROUNDS = int(os.environ.get("BENCH_EVENTS_ROUNDS", "3"))
THREADS = 2
CONSUMER = "bench.counter"
PAUSE_FILE = Path(tempfile.gettempdir()) / "pitboss-bench-drain-paused"


def observer(event: PostingEvent) -> tuple[str, list[Any]]:
    """One UPDATE, no scan, inside the posting's statement: the shape bonus wagering progress will have."""
    return "UPDATE bench_observed SET bets = bets + 1 FROM t WHERE player_id = %s", [event.player_id]


def consume(batch: list[PostingEvent]) -> None:
    """The durable consumer: counts what it got (one statement per player batch, in a table of its own: a
    handler that locked rows the posting path writes would make postings wait for the drain's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_consumed (player_id, events) VALUES (%s, %s) "
            "ON CONFLICT (player_id) DO UPDATE SET events = bench_consumed.events + EXCLUDED.events",
            [batch[0].player_id, len(batch)],
        )


def register(on: bool) -> None:
    from apps.wallet import events

    for name in list(events.consumers()):
        events.unregister_consumer(name)
    events.unregister_observer(observer)
    if on:
        events.register_statement_observer(observer, types=["bet"])
        events.register_consumer(CONSUMER, consume, types=["bet"])


def _bets(players: list[Player], seconds: float, counts: list[int], run: str) -> None:
    from apps.wallet.posting import wallet_bet

    done, rng, end = 0, random.Random(), time.perf_counter() + seconds
    try:
        while time.perf_counter() < end:
            wallet_bet(
                player=rng.choice(players),
                amount=Decimal("0.10"),
                currency="GBP",
                round_id=f"{run}-{done}",
                game_category="table",
            )
            done += 1
    finally:
        counts.append(done)
        connections.close_all()


def _round(players: list[Player], run: str) -> float:
    counts: list[int] = []
    threads = [
        threading.Thread(target=_bets, args=(players, ROUND_SECONDS, counts, f"{run}-{i}")) for i in range(THREADS)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def _backlog() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM wallet_posting_queue WHERE consumer = %s", [CONSUMER])
        return int(cursor.fetchone()[0])


def _start_drainer() -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    return subprocess.Popen([sys.executable, "-m", "bench.drain_worker"], env=env)


def run() -> None:
    ensure_players()
    players = _funded_players()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_observed (player_id bigint PRIMARY KEY, bets bigint NOT NULL DEFAULT 0)"
        )
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_consumed (player_id bigint PRIMARY KEY, events bigint NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO bench_observed (player_id) SELECT unnest(%s::bigint[]) ON CONFLICT DO NOTHING",
            [[p.pk for p in players]],
        )
        cursor.execute("DELETE FROM wallet_posting_queue WHERE consumer = %s", [CONSUMER])
    run_id = f"ev{int(time.time())}"
    register(False)
    _round(players, run_id + "-warm")
    base, posting_side, drained, backlog_samples = [], [], [], []
    drainer = _start_drainer()
    paused = False

    def pause(on: bool) -> None:
        """The drainer stops between batches (never inside a transaction) while the pause file exists."""
        nonlocal paused
        if on != paused:
            if on:
                PAUSE_FILE.touch()
                time.sleep(1.5)  # its current drain (at most 0.5 s) ends
            else:
                PAUSE_FILE.unlink(missing_ok=True)
            paused = on

    def wait_drained(limit: float = 60) -> int:
        pause(False)
        deadline, left = time.perf_counter() + limit, _backlog()
        while left and time.perf_counter() < deadline:
            time.sleep(0.2)
            left = _backlog()
        return left

    try:
        time.sleep(3)  # the drainer is up
        for r in range(ROUNDS):
            register(False)
            pause(True)
            base.append(_round(players, f"{run_id}-b{r}"))  # no consumer, nothing else running
            register(True)
            posting_side.append(_round(players, f"{run_id}-p{r}"))  # consumers on, the drainer stopped
            wait_drained()
            stop = threading.Event()
            samples: list[int] = []

            def sample(out: list[int] = samples, halt: threading.Event = stop) -> None:
                while not halt.wait(0.5):
                    out.append(_backlog())
                connections.close_all()

            sampler = threading.Thread(target=sample)
            sampler.start()
            drained.append(_round(players, f"{run_id}-e{r}"))  # consumers on, the drainer keeping up beside
            stop.set()
            sampler.join()
            backlog_samples.append(samples)
        register(False)
        left = wait_drained(30)
    finally:
        pause(False)
        drainer.terminate()
        drainer.wait(timeout=10)
    b, p_, e = statistics.median(base), statistics.median(posting_side), statistics.median(drained)
    print(
        f"\n== posting_events: {THREADS} threads, {len(players):,} funded players, "
        f"{ROUNDS} rounds of {ROUND_SECONDS:.0f} s =="
    )
    print(f"  {'bets, no consumer (baseline)':<60} {b:8.0f} bets/s   1.00x")
    print(
        f"  {'bets, 1 statement observer + 1 durable consumer queued':<60} {p_:8.0f} bets/s   {p_ / b:4.2f}x"
        "  (goal >= 0.9)"
    )
    print(f"  {'the same, with the drainer running beside (2 cores shared)':<60} {e:8.0f} bets/s   {e / b:4.2f}x")
    for r, samples in enumerate(backlog_samples):
        if samples:
            print(
                f"  round {r + 1} with the drainer: backlog every 0.5 s: first {samples[0]}, max {max(samples)}, "
                f"last {samples[-1]} at {drained[r]:.0f} bets/s"
            )
    print(f"  backlog 30 s after the last round: {left} (0 = the drain kept up)")
