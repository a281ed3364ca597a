"""What the audit trail costs audited actions, and how far the sealer falls behind (issue 11 §5).

An "action" is what a staff member's click costs the database: one transaction with a small UPDATE of a row
(a staff record, chosen at random from a pool, so writers rarely touch the same row) and, for the audited
kinds, ``audit_log`` in the same transaction, as every service does. Eight writer threads run each kind for
``AUDIT_BENCH_SECONDS``, alternating (plain, audited, plain, audited, ...) so the machine's noise falls on
both; the ratio is audited throughput over plain throughput in the same run (goal >= 0.8).

* plain: the UPDATE alone (the baseline);
* audited: the UPDATE and ``audit_log`` (one ``nextval`` and one INSERT, no lock), while a sealer thread runs
  ``audit_seal()`` every ``AUDIT_BENCH_SEAL_EVERY`` seconds as the beat task does in production; a sampler
  reads the lag (``audit_seal_lag``: count and age of the oldest unsealed row) every 0.2 s (goal <= 5 s);
* floor: the UPDATE and an INSERT of one short text column into a table with no index but its key and no
  trigger: what any design that writes one row per action in the action's transaction costs at least;
* global lock (before issue 11, emulated): the same plus what every writer did then: take one advisory lock
  held until commit and read the chain's head.

Writers, sealer and sampler are threads of one process (the sealer is a Celery worker in production, so the
GIL makes the audited figure a little pessimistic). The sealed chain is verified at the end.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
from collections.abc import Callable

from django.db import connection, transaction

from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_chain_verify, audit_seal_lag
from apps.audit.services import SystemActor, audit_log, audit_seal
from apps.staff.models import StaffUser
from bench.timing import fmt

WRITERS = 8
SECONDS = float(os.environ.get("AUDIT_BENCH_SECONDS", "8"))
ROUNDS = int(os.environ.get("AUDIT_BENCH_ROUNDS", "2"))
SEAL_EVERY = float(os.environ.get("AUDIT_BENCH_SEAL_EVERY", "2"))
POOL = 2000
OLD_CHAIN_LOCK_KEY = 0x6175646974  # the key every writer queued on before issue 11


def _pool() -> list[StaffUser]:
    existing = list(StaffUser.objects.filter(username__startswith="bench-audit-").order_by("pk")[:POOL])
    if len(existing) < POOL:
        StaffUser.objects.bulk_create(
            [
                StaffUser(username=f"bench-audit-{i}", email=f"bench-audit-{i}@example.invalid", password="!")
                for i in range(len(existing), POOL)
            ]
        )
        existing = list(StaffUser.objects.filter(username__startswith="bench-audit-").order_by("pk")[:POOL])
    return existing


def _update(cursor: object, user: StaffUser, i: int) -> None:
    cursor.execute(  # type: ignore[attr-defined]
        "UPDATE staff_user SET first_name = %s WHERE id = %s", [f"n{i % 97}", user.pk]
    )


def _plain(user: StaffUser, i: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        _update(cursor, user, i)


def _audited(user: StaffUser, i: int) -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            _update(cursor, user, i)
        audit_log(actor=SystemActor("bench"), action="staff.renamed", target=user, data={"first_name": f"n{i % 97}"})


def _floor(user: StaffUser, i: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        _update(cursor, user, i)
        cursor.execute("INSERT INTO bench_audit_floor (note) VALUES (%s)", ["staff.renamed"])


def _global_lock(user: StaffUser, i: int) -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            _update(cursor, user, i)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [OLD_CHAIN_LOCK_KEY])
            cursor.execute("SELECT row_hash FROM audit_event ORDER BY id DESC LIMIT 1")
            cursor.fetchone()
        audit_log(actor=SystemActor("bench"), action="staff.renamed", target=user, data={"first_name": f"n{i % 97}"})


def _writers(action: Callable[[StaffUser, int], None], pool: list[StaffUser]) -> tuple[float, list[float]]:
    """Actions per second over ``SECONDS`` with ``WRITERS`` threads, and every action's latency."""
    # The main thread hands its pooled connection back: the writers, the sealer and the sampler need ten, the
    # pool's default size (DATABASE_POOL_MAX); a sealer waiting for a connection would look like seal lag.
    connection.close()
    barrier = threading.Barrier(WRITERS + 1)
    counts = [0] * WRITERS
    latencies: list[list[float]] = [[] for _ in range(WRITERS)]
    deadline = [0.0]
    errors: list[BaseException] = []

    def body(w: int) -> None:
        rng = random.Random(w)
        try:
            barrier.wait()
            i = 0
            while time.perf_counter() < deadline[0]:
                started = time.perf_counter()
                action(rng.choice(pool), i)
                latencies[w].append(time.perf_counter() - started)
                i += 1
            counts[w] = i
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + SECONDS
    started = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return sum(counts) / (time.perf_counter() - started), [x for per in latencies for x in per]


class Sealer:
    """The beat task, in a thread: ``audit_seal()`` every ``SEAL_EVERY`` seconds; and a lag sampler."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.sealed = 0
        self.runs: list[float] = []
        self.lags: list[float] = []
        self.counts: list[int] = []
        self.threads = [threading.Thread(target=self._seal), threading.Thread(target=self._sample)]

    def _seal(self) -> None:
        try:
            while not self.stop.wait(SEAL_EVERY):
                started = time.perf_counter()
                self.sealed += audit_seal()
                self.runs.append(time.perf_counter() - started)
        finally:
            connection.close()

    def _sample(self) -> None:
        try:
            while not self.stop.wait(0.2):
                lag = audit_seal_lag()
                self.lags.append(lag.seconds())
                self.counts.append(lag.unsealed)
        finally:
            connection.close()

    def __enter__(self) -> Sealer:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else (values[0] if values else 0.0)  # type: ignore[call-overload]


def _truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_event")
        cursor.execute("TRUNCATE bench_audit_floor")


def run() -> None:
    pool = _pool()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_audit_floor (id bigserial PRIMARY KEY, note text)")
    _truncate()
    plain_rates, audited_rates, old_rates, floor_rates = [], [], [], []
    plain_lat: list[float] = []
    audited_lat: list[float] = []
    old_lat: list[float] = []
    floor_lat: list[float] = []
    sealers: list[Sealer] = []
    for _ in range(ROUNDS):
        rate, lat = _writers(_plain, pool)
        plain_rates.append(rate)
        plain_lat += lat
        rate, lat = _writers(_floor, pool)
        floor_rates.append(rate)
        floor_lat += lat
        with Sealer() as sealer:
            rate, lat = _writers(_audited, pool)
            audited_rates.append(rate)
            audited_lat += lat
            drain_started = time.perf_counter()
            while AuditEvent.objects.filter(seq__isnull=True).exists():  # what is left when the load stops
                time.sleep(0.05)
            sealer.drain = time.perf_counter() - drain_started  # type: ignore[attr-defined]
        sealers.append(sealer)
    for _ in range(ROUNDS):
        with Sealer():
            rate, lat = _writers(_global_lock, pool)
        old_rates.append(rate)
        old_lat += lat
    audit_seal()
    verify_started = time.perf_counter()
    report = audit_chain_verify(with_checkpoints=False)
    verify_seconds = time.perf_counter() - verify_started
    assert report.ok and report.lag.unsealed == 0, report

    plain = statistics.mean(plain_rates)
    audited = statistics.mean(audited_rates)
    old = statistics.mean(old_rates)
    floor = statistics.mean(floor_rates)
    lags = [x for s in sealers for x in s.lags]
    counts = [x for s in sealers for x in s.counts]
    runs = [x for s in sealers for x in s.runs]
    sealed = sum(s.sealed for s in sealers)
    print(
        f"\n== audit_chain: {WRITERS} writers of audited staff actions, {ROUNDS} x {SECONDS:.0f} s each kind, "
        f"sealer every {SEAL_EVERY:.0f} s =="
    )
    print(f"  {'kind':<38} {'actions/s':>10} {'ratio':>7} {'p50':>12} {'p99':>12}")
    for label, rate, lat in (
        ("UPDATE only (baseline)", plain, plain_lat),
        ("UPDATE + audit_log (unsealed insert)", audited, audited_lat),
        ("UPDATE + one-column INSERT (floor)", floor, floor_lat),
        ("UPDATE + global chain lock (before)", old, old_lat),
    ):
        print(f"  {label:<38} {rate:10.0f} {rate / plain:6.2f}x {fmt(_p(lat, 50))} {fmt(_p(lat, 99))}")
    print(
        f"  rounds (actions/s): plain {[round(r) for r in plain_rates]}, audited {[round(r) for r in audited_rates]}, "
        f"floor {[round(r) for r in floor_rates]}"
    )
    print(
        f"  seal lag under load: max {max(lags, default=0):.2f} s, p95 {_p(lags, 95):.2f} s, "
        f"max unsealed {max(counts, default=0)} rows; a seal run: median {fmt(statistics.median(runs))}, "
        f"max {fmt(max(runs))} ({sealed} rows sealed while writing, "
        f"{sealed / max(sum(runs), 1e-9):.0f} rows/s while sealing)"
    )
    print(f"  drained after the load stopped in: {max(getattr(s, 'drain', 0.0) for s in sealers):.2f} s")
    print(
        f"  audit_verify: {report.checked} rows in {verify_seconds:.2f} s "
        f"({fmt(verify_seconds / report.checked)} per row)"
    )
    print(f"  goals: ratio {audited / plain:.2f} (>= 0.8), lag {max(lags, default=0):.2f} s (<= 5 s)")
    _truncate()
