"""What the operator day rollups cost a bet, and how far they lag behind the ledger at the peak bet rate.

Two threads post bets at full speed through ``wallet_bet`` (posting_events' bets: table games, 2,000 funded GB
players), in rounds that alternate between

(a) no durable consumer registered at all in the posting process (the baseline, same run);
(b) the rollups' batch consumer (``reports.operator_day``) registered, so every bet queues its row, with the
    drainer stopped; the backlog this leaves is then drained with nothing else running: the drain's capacity;
(c) the same with a separate drainer process beside the bets (``python -m bench.reports_rollups drain``: the
    Celery task's ``rollups.drain`` in a loop, the real handler): the backlog is sampled every 0.5 s and, for every
    transaction, the drainer records how long after its posting the rollups that include it were committed (the
    drain's commit - the transaction's ``created_at``, which is a few milliseconds before the posting's commit:
    the lag is over- rather than under-stated).

Then one longer round of (c) (``BENCH_ROLLUPS_SUSTAIN_SECONDS``) for the backlog's slope. The other durable
consumers are unregistered in the posting process throughout: the ratio is the rollups' alone. Goals (issue 18):
lag <= 60 s, no growing backlog.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")

ROUND_SECONDS = float(os.environ.get("BENCH_ROLLUPS_ROUND_SECONDS", "15"))
ROUNDS = int(os.environ.get("BENCH_ROLLUPS_ROUNDS", "3"))
SUSTAIN_SECONDS = float(os.environ.get("BENCH_ROLLUPS_SUSTAIN_SECONDS", "60"))
# How long the drainer waits after each drain (which runs until caught up): 1 s is the cadence of the nudges (at most
# one a second per posting process: the Celery task's runs); 0.05 s a worker kept busy (smaller, more batches).
POLL_SECONDS = float(os.environ.get("BENCH_ROLLUPS_POLL_SECONDS", "0.05"))
THREADS = 2
PAUSE_FILE = Path(tempfile.gettempdir()) / "pitboss-bench-rollups-drain-paused"
LAG_FILE = Path(tempfile.gettempdir()) / "pitboss-bench-rollups-lags.txt"


def register(on: bool) -> None:
    """In the posting process: no durable consumer at all, or the rollups' only."""
    from apps.reports import rollups
    from apps.wallet import events

    for name in [*events.consumers(), rollups.CONSUMER]:
        events.unregister_consumer(name)
    if on:
        rollups.register()


def _round(players: list[Any], run: str, seconds: float) -> dict[str, float]:
    from bench.posting_events import _bets

    counts: list[int] = []
    threads = [threading.Thread(target=_bets, args=(players, seconds, counts, f"{run}-{i}")) for i in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"bets": sum(counts) / elapsed, "seconds": elapsed, "started": time.time() - elapsed}


def _backlog() -> tuple[int, float]:
    from django.db import connection

    from apps.reports import rollups

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(extract(epoch FROM now() - min(queued_at)), 0) FROM wallet_posting_queue "
            "WHERE consumer = %s",
            [rollups.CONSUMER],
        )
        rows, oldest = cursor.fetchone()
    return int(rows), float(oldest)


def _lags(since: float, until: float) -> list[float]:
    """Per transaction posted in [since, until]: seconds from its posting to the commit of its rollups."""
    found = []
    if LAG_FILE.exists():
        for line in LAG_FILE.read_text().splitlines():
            created, lag = (float(x) for x in line.split()[:2])
            if since <= created <= until:
                found.append(lag)
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run() -> None:
    from django.db import connections

    from apps.reports import rollups
    from bench.aml_lag import _pct, _slope
    from bench.players import ensure_players
    from bench.wallet import _funded_players

    ensure_players()
    players = _funded_players()
    register(True)
    while rollups.drain().processed:  # what earlier runs or the funding left queued
        pass
    LAG_FILE.unlink(missing_ok=True)
    run_id = f"ro{int(time.time())}"
    register(False)
    _round(players, run_id + "-warm", 3)
    base, queued, beside, capacity = [], [], [], []
    rounds: list[dict[str, Any]] = []
    PAUSE_FILE.unlink(missing_ok=True)
    drainer = subprocess.Popen(
        [sys.executable, "-m", "bench.reports_rollups", "drain"], env={**os.environ, "PYTHONPATH": os.getcwd()}
    )
    paused = False

    def pause(on: bool) -> None:
        nonlocal paused
        if on != paused:
            if on:
                PAUSE_FILE.touch()
                time.sleep(1.5)  # its current drain (at most 0.5 s) ends
            else:
                PAUSE_FILE.unlink(missing_ok=True)
            paused = on

    def wait_drained(limit: float = 120) -> tuple[int, float]:
        pause(False)
        started = time.perf_counter()
        deadline, (left, _) = started + limit, _backlog()
        while left and time.perf_counter() < deadline:
            time.sleep(0.05)
            left, _ = _backlog()
        return left, time.perf_counter() - started

    def with_drainer(seconds: float, label: str) -> dict[str, Any]:
        stop = threading.Event()
        samples: list[tuple[float, int, float]] = []

        def sample() -> None:
            t0 = time.perf_counter()
            while not stop.wait(0.5):
                rows, oldest = _backlog()
                samples.append((time.perf_counter() - t0, rows, oldest))
            connections.close_all()

        sampler = threading.Thread(target=sample)
        sampler.start()
        rate = _round(players, label, seconds)
        stop.set()
        sampler.join()
        left, tail = wait_drained()
        time.sleep(1.0)  # the drainer's last lag lines are written
        lags = _lags(rate["started"] - 1, rate["started"] + rate["seconds"] + 1)
        return {"rate": rate, "samples": samples, "left": left, "tail": tail, "lags": lags}

    try:
        time.sleep(3)  # the drainer is up
        for r in range(ROUNDS):
            register(False)
            pause(True)
            base.append(_round(players, f"{run_id}-b{r}", ROUND_SECONDS))
            register(True)
            queued.append(_round(players, f"{run_id}-q{r}", ROUND_SECONDS))
            waiting, _ = _backlog()
            left, took = wait_drained()
            capacity.append((waiting - left) / took if took else 0.0)
            found = with_drainer(ROUND_SECONDS, f"{run_id}-e{r}")
            beside.append(found["rate"])
            rounds.append(found)
        sustained = with_drainer(SUSTAIN_SECONDS, f"{run_id}-s")
        register(False)
        drainer_cpu = _cpu_seconds(drainer.pid)
    finally:
        pause(False)
        drainer.terminate()
        drainer.wait(timeout=10)
    b = statistics.median(x["bets"] for x in base)
    q = statistics.median(x["bets"] for x in queued)
    e = statistics.median(x["bets"] for x in beside)
    print(
        f"\n== reports_rollups: {THREADS} threads, {len(players):,} funded players, {ROUNDS} rounds of "
        f"{ROUND_SECONDS:.0f} s + {SUSTAIN_SECONDS:.0f} s, the drainer polls every {POLL_SECONDS:g} s when idle =="
    )
    print(f"  {'bets, no consumer (baseline)':<62} {b:8.0f} bets/s   1.00x")
    print(f"  {'bets, rollups consumer queued, drain stopped':<62} {q:8.0f} bets/s   {q / b:4.2f}x")
    print(f"  {'bets, rollups drained beside (2 cores shared)':<62} {e:8.0f} bets/s   {e / b:4.2f}x")
    cap = statistics.median(capacity)
    print(
        f"  drain capacity with nothing else running: {cap:.0f} rows/s ({cap / max(b, 1):.1f}x the baseline's bets; "
        f"the time includes up to one {POLL_SECONDS:g} s idle wait)"
    )
    drained = sum(x["bets"] * x["seconds"] for x in [*queued, *beside, sustained["rate"]])
    print(
        f"  the drainer process's CPU over the run: {drainer_cpu:.1f} s for ~{drained:,.0f} rows "
        f"({drainer_cpu / max(drained, 1) * 1e6:.0f} us a row, its lag bookkeeping included)"
    )
    all_lags: list[float] = []
    for label, found in [*((f"round {i + 1}", x) for i, x in enumerate(rounds)), ("sustained", sustained)]:
        samples, lags = found["samples"], found["lags"]
        all_lags += lags
        rows = [s[1] for s in samples] or [0]
        oldest = [s[2] for s in samples] or [0.0]
        half, rate = len(rows) // 2, found["rate"]
        slope = _slope([(s[0], s[1]) for s in samples])
        print(
            f"  {label:<9} {rate['seconds']:4.0f} s at {rate['bets']:.0f} bets/s: backlog max {max(rows)}, "
            f"last {rows[-1]}, mean 1st/2nd half {statistics.fmean(rows[:half] or [0]):.1f}/"
            f"{statistics.fmean(rows[half:] or [0]):.1f}, slope {slope:+.2f} rows/s; oldest max {max(oldest):.2f} s; "
            f"lag p50 {_pct(lags, 0.5) * 1000:.0f} ms, p99 {_pct(lags, 0.99) * 1000:.0f} ms, "
            f"max {max(lags or [0]) * 1000:.0f} ms ({len(lags)} bets); left {found['left']} "
            f"(drained {found['tail']:.1f} s after)"
        )
    print(
        f"  lag over every round: p50 {_pct(all_lags, 0.5):.2f} s, p99 {_pct(all_lags, 0.99):.2f} s, "
        f"max {max(all_lags or [0]):.2f} s (goal <= 60 s)"
    )


# --- the drainer process ----------------------------------------------------------------------------------------


def drain_main() -> None:
    """Loop the Celery task's drain with the real handler; per transaction, write its posting time and the lag of
    the commit that counted it."""
    os.environ["DATABASE_URL"] = (
        f"postgres://postgres@127.0.0.1:5432/{os.environ.get('BENCH_DATABASE', 'pitboss_bench')}"
    )
    import django

    django.setup()
    from django.db import connection, transaction

    from apps.reports import rollups
    from apps.wallet import events

    committed: list[tuple[float, list[int]]] = []

    def handler(claimed: events.Claimed) -> None:
        rollups._handle(claimed)
        ids = claimed.transaction_ids
        transaction.on_commit(lambda: committed.append((time.time(), ids)))

    for name in list(events.consumers()):
        events.unregister_consumer(name)
    events.register_batch_consumer(rollups.CONSUMER, handler, task=rollups.DRAIN_TASK, queue="reports")
    with LAG_FILE.open("a") as out:
        while True:
            if not PAUSE_FILE.exists():
                rollups.drain(budget_seconds=0.5)
            time.sleep(POLL_SECONDS)  # one drain per nudge: it drains until caught up, then the next nudge
            for at, ids in committed:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT extract(epoch FROM created_at) FROM wallet_transaction WHERE id = ANY(%s)", [ids]
                    )
                    out.write("".join(f"{float(c):.6f} {at - float(c):.6f}\n" for (c,) in cursor.fetchall()))
            if committed:
                out.flush()
                committed.clear()


if __name__ == "__main__" and sys.argv[1:] == ["drain"]:
    drain_main()
