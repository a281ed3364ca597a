"""Whether rule evaluation keeps up with the peak posting rate, with every seed rule published: the lag.

Two threads post for 2,000 funded GB players (verified, KYC level 2 or more) through the posting services, at
full speed: bets (``wallet_bet``), one deposit per 20 bets (``wallet_deposit``: EUR 10-300 mostly, one in ten
just under the CDD threshold, one of three cards per player) and one withdrawal request per 200 bets
(``withdrawal_request``). Deposits and withdrawal requests are what the rules read (``kinds.posting_types``): a
bet is not even queued for them. Rounds alternate between

(a) no consumer registered at all (the baseline, same run: the bets/s the posting path reaches on this machine);
(b) the ``compliance.rules`` consumer registered (its queue rows written by the postings), its drain stopped: the
    backlog this leaves is then drained with nothing else running, which is the evaluation's capacity (events/s);
(c) the consumer registered and a separate process draining it beside the postings, as the Celery worker's
    ``posting_events_drain`` does: the backlog (``events.backlog()``: rows, oldest) is sampled every 0.5 s, and the
    drainer records, per event, how long after its posting it was evaluated (handled - ``created_at``).

Then one longer round of (c) (``BENCH_AML_SUSTAIN_SECONDS``) to see whether the backlog grows. The other durable
consumers (``responsible.limit_flags``) are unregistered in the posting process throughout: the ratio is the
rules' alone. Goal: the backlog does not grow at the peak rate (issue 16); the lag is reported.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")

ROUND_SECONDS = float(os.environ.get("BENCH_AML_ROUND_SECONDS", "15"))
ROUNDS = int(os.environ.get("BENCH_AML_ROUNDS", "3"))
SUSTAIN_SECONDS = float(os.environ.get("BENCH_AML_SUSTAIN_SECONDS", "60"))
THREADS = 2
FUNDED = 2000
FUNDING = Decimal("500.00")
DEPOSIT_EVERY, WITHDRAWAL_EVERY = 20, 200  # bets per deposit, per withdrawal request (on average)
P_DEPOSIT = 1 / (1 + DEPOSIT_EVERY + DEPOSIT_EVERY / WITHDRAWAL_EVERY)
P_WITHDRAWAL = P_DEPOSIT * DEPOSIT_EVERY / WITHDRAWAL_EVERY
CONSUMER = "compliance.rules"
PAUSE_FILE = Path(tempfile.gettempdir()) / "pitboss-bench-aml-drain-paused"
LAG_FILE = Path(tempfile.gettempdir()) / "pitboss-bench-aml-lags.txt"
STATS_FILE = Path(tempfile.gettempdir()) / "pitboss-bench-aml-kinds.json"


def _players() -> list[Any]:
    """2,000 verified GB demo players (from the top of the ids: none the other benchmarks post for), each funded
    once with a modest deposit (a large one would put every player over the window rules' thresholds)."""
    from apps.players.models import Player
    from apps.wallet.models import LedgerTransaction
    from apps.wallet.posting import wallet_deposit

    players = list(
        Player.objects.filter(external_id__startswith="demo-", country="GB", kyc__level__gte=2).order_by("-id")[:FUNDED]
    )
    funded = set(
        LedgerTransaction.objects.filter(reference="bench-aml-funding", player__in=players).values_list(
            "player", flat=True
        )
    )
    todo = [p for p in players if p.pk not in funded]
    if todo:
        print(f"funding {len(todo):,} players (once)...", flush=True)
        for player in todo:
            wallet_deposit(player=player, amount=FUNDING, currency="GBP", reference="bench-aml-funding")
    return players


def _deposit_amount(rng: random.Random) -> Decimal:
    """GBP: EUR 10-300 mostly, some 300-1,400, one in ten 1,400-1,990 (the structuring band is 1,700-2,000)."""
    r = rng.random()
    eur = rng.uniform(10, 300) if r < 0.7 else rng.uniform(300, 1400) if r < 0.9 else rng.uniform(1400, 1990)
    return Decimal(f"{eur * 0.85:.2f}")


def register(on: bool) -> None:
    """In the posting process: no durable consumer at all, or the rules' only."""
    from apps.compliance import evaluation
    from apps.wallet import events

    for name in list(events.consumers()):
        events.unregister_consumer(name)
    if on:
        evaluation.register()


def _post(players: list[Any], seconds: float, counts: list[dict[str, int]], run: str) -> None:
    from django.db import connections, transaction

    from apps.wallet.posting import PostingRefused, wallet_bet, wallet_deposit
    from apps.wallet.services import withdrawal_request

    done: dict[str, int] = defaultdict(int)
    rng, end = random.Random(), time.perf_counter() + seconds
    try:
        while time.perf_counter() < end:
            player = rng.choice(players)
            r = rng.random()
            try:
                if r < P_DEPOSIT:
                    wallet_deposit(
                        player=player,
                        amount=_deposit_amount(rng),
                        currency="GBP",
                        payment_method="card",
                        instrument_fingerprint=f"bench-aml-{player.pk}-{rng.randrange(3)}",
                    )
                    done["deposit"] += 1
                    continue
                if r < P_DEPOSIT + P_WITHDRAWAL:
                    with transaction.atomic():
                        withdrawal_request(
                            player=player, amount=Decimal(rng.randrange(10, 100)), currency="GBP", payment_method="card"
                        )
                    done["withdrawal"] += 1
                    continue
                wallet_bet(
                    player=player,
                    amount=Decimal("0.10"),
                    currency="GBP",
                    round_id=f"{run}-{done['bet']}",
                    game_category="table",
                )
                done["bet"] += 1
            except PostingRefused:
                done["refused"] += 1
                if done["refused"] > 1000:
                    raise
    finally:
        counts.append(dict(done))
        connections.close_all()


def _round(players: list[Any], run: str, seconds: float) -> dict[str, float]:
    counts: list[dict[str, int]] = []
    threads = [threading.Thread(target=_post, args=(players, seconds, counts, f"{run}-{i}")) for i in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    total = {k: sum(c.get(k, 0) for c in counts) for k in ("bet", "deposit", "withdrawal", "refused")}
    return {**{k: v / elapsed for k, v in total.items()}, "seconds": elapsed, "started": time.time() - elapsed}


def _backlog() -> tuple[int, float]:
    from apps.wallet import events

    for b in events.backlog():
        if b.consumer == CONSUMER:
            return b.rows, b.oldest_seconds
    return 0, 0.0


def _lags(since: float, until: float) -> list[float]:
    """Per event posted in [since, until]: seconds from its posting to its evaluation (the drainer's file)."""
    found = []
    if LAG_FILE.exists():
        for line in LAG_FILE.read_text().splitlines():
            created, lag = (float(x) for x in line.split()[:2])
            if since <= created <= until:
                found.append(lag)
    return found


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _slope(samples: list[tuple[float, int]]) -> float:
    """Rows per second the backlog moved over the round (least squares)."""
    if len(samples) < 3:
        return 0.0
    xs, ys = [s[0] for s in samples], [float(s[1]) for s in samples]
    return statistics.linear_regression(xs, ys).slope


def run() -> None:
    from django.db import connections

    from apps.compliance.models import RuleVersion
    from apps.wallet import events
    from bench.players import ensure_players

    ensure_players()
    players = _players()
    published = list(RuleVersion.objects.filter(state="published").values_list("rule__code", "kind", "mode"))
    from apps.compliance import kinds

    posting_rules = [p for p in published if kinds.KINDS[p[1]].triggers]
    for name in list(events.consumers()):  # what earlier runs or the funding left queued
        while events.drain(name).processed:
            pass
    LAG_FILE.unlink(missing_ok=True)
    STATS_FILE.unlink(missing_ok=True)
    run_id = f"aml{int(time.time())}"
    register(False)
    _round(players, run_id + "-warm", 3)
    base, queued, beside, capacity = [], [], [], []
    rounds: list[dict[str, Any]] = []
    PAUSE_FILE.unlink(missing_ok=True)
    drainer = subprocess.Popen(
        [sys.executable, "-m", "bench.aml_lag", "drain"], env={**os.environ, "PYTHONPATH": os.getcwd()}
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
            time.sleep(0.1)
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
    finally:
        pause(False)
        drainer.terminate()
        drainer.wait(timeout=10)
    b = statistics.median(x["bet"] for x in base)
    q = statistics.median(x["bet"] for x in queued)
    e = statistics.median(x["bet"] for x in beside)
    events_rate = statistics.median(x["deposit"] + x["withdrawal"] for x in beside)
    print(
        f"\n== aml_lag: {THREADS} threads, {len(players):,} funded players, {len(posting_rules)} posting rules "
        f"published ({len(published)} in all), {ROUNDS} rounds of {ROUND_SECONDS:.0f} s + {SUSTAIN_SECONDS:.0f} s =="
    )
    print(
        f"  postings per bet: 1/{DEPOSIT_EVERY} deposit, 1/{WITHDRAWAL_EVERY} withdrawal request; "
        f"refused: {sum(x['refused'] for x in base + queued + beside):.0f}/s summed"
    )
    print(f"  {'bets, no consumer (baseline)':<62} {b:8.0f} bets/s   1.00x")
    print(f"  {'bets, compliance.rules queued, drain stopped':<62} {q:8.0f} bets/s   {q / b:4.2f}x")
    print(f"  {'bets, compliance.rules drained beside (2 cores shared)':<62} {e:8.0f} bets/s   {e / b:4.2f}x")
    print(
        f"  rule events (deposits + withdrawal requests) posted beside: {events_rate:.1f}/s; evaluation capacity "
        f"with nothing else running: {statistics.median(capacity):.0f} events/s "
        f"({statistics.median(capacity) / max(events_rate, 0.1):.1f}x the peak rate's events)"
    )
    for label, found in [*((f"round {i + 1}", x) for i, x in enumerate(rounds)), ("sustained", sustained)]:
        samples, lags = found["samples"], found["lags"]
        rows = [s[1] for s in samples] or [0]
        oldest = [s[2] for s in samples] or [0.0]
        half, rate = len(rows) // 2, found["rate"]
        slope = _slope([(s[0], s[1]) for s in samples])
        lag = (
            f"lag p50 {_pct(lags, 0.5) * 1000:.0f} ms, p99 {_pct(lags, 0.99) * 1000:.0f} ms, "
            f"max {max(lags or [0]) * 1000:.0f} ms ({len(lags)} events)"
        )
        print(
            f"  {label:<9} {rate['seconds']:4.0f} s at {rate['bet']:.0f} bets/s, "
            f"{rate['deposit'] + rate['withdrawal']:.1f} events/s: backlog max {max(rows)}, last {rows[-1]}, "
            f"mean 1st/2nd half {statistics.fmean(rows[:half] or [0]):.1f}/{statistics.fmean(rows[half:] or [0]):.1f}, "
            f"slope {slope:+.2f} rows/s; oldest max {max(oldest):.2f} s; {lag}; "
            f"left {found['left']} (drained {found['tail']:.1f} s after)"
        )
    if STATS_FILE.exists():
        stats = json.loads(STATS_FILE.read_text())
        shown = ", ".join(
            f"{k} {v[1] / v[0] * 1000:.2f} ms x{v[0]}" for k, v in sorted(stats.items(), key=lambda kv: -kv[1][1])
        )
        print(f"  drainer time per call (all rounds): {shown}")


# --- the drainer process ----------------------------------------------------------------------------------------


def drain_main() -> None:
    """Loop the Celery task's drain for ``compliance.rules``, with the real handler, and write per event the
    posting's time and its lag; per kind, the time spent evaluating (the drainer's own process only)."""
    os.environ["DATABASE_URL"] = (
        f"postgres://postgres@127.0.0.1:5432/{os.environ.get('BENCH_DATABASE', 'pitboss_bench')}"
    )
    import dataclasses

    import django

    django.setup()
    from apps.compliance import alerts, cases, evaluation, kinds
    from apps.wallet import events

    stats: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def timed(name: str, fn: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                stats[name][0] += 1
                stats[name][1] += time.perf_counter() - started

        return call

    for code, kind in list(kinds.KINDS.items()):
        kinds.KINDS[code] = dataclasses.replace(kind, evaluate=timed(f"kind {code}", kind.evaluate))
    alerts.alert_raise = timed("alert_raise", alerts.alert_raise)  # type: ignore[assignment]
    alerts.hit_record = timed("  hit_record", alerts.hit_record)  # type: ignore[assignment]
    alerts.audit_log = timed("  audit_log (new alert)", alerts.audit_log)  # type: ignore[assignment]
    cases.case_for_alert = timed("  case_for_alert", cases.case_for_alert)  # type: ignore[assignment]
    cases.case_open_or_attach = timed("    case_open_or_attach", cases.case_open_or_attach)  # type: ignore[assignment]
    lines: list[str] = []

    def handler(batch: list[events.PostingEvent]) -> None:
        started = time.perf_counter()
        evaluation.handle(batch)
        stats["handle (a player's batch)"][0] += 1
        stats["handle (a player's batch)"][1] += time.perf_counter() - started
        now = time.time()
        lines.extend(f"{e.created_at.timestamp():.6f} {now - e.created_at.timestamp():.6f} {e.type}" for e in batch)

    for name in list(events.consumers()):
        events.unregister_consumer(name)
    events.register_consumer(CONSUMER, handler, types=sorted(kinds.posting_types()))
    last_write = time.monotonic()
    with LAG_FILE.open("a") as out:
        while True:
            if PAUSE_FILE.exists() or not events.drain(CONSUMER, budget_seconds=0.5).processed:
                time.sleep(0.05)
            if lines:
                out.write("\n".join(lines) + "\n")
                out.flush()
                lines.clear()
            if time.monotonic() - last_write > 1:
                STATS_FILE.write_text(json.dumps(stats))
                last_write = time.monotonic()


if __name__ == "__main__" and sys.argv[1:] == ["drain"]:
    drain_main()
