"""Throughput of the hash-chained audit trail: one writer vs several concurrent writers.

Every writer takes the same advisory lock, so concurrency cannot raise throughput: the question is how
much it costs (lock hand-offs) and that nothing forks. Baseline: a plain INSERT of the same row without the
chain (no lock, no head lookup, no hash), measured in the same run.
"""

from __future__ import annotations

import threading
import time

from django.db import connection, transaction

from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.audit.services import SystemActor, audit_log
from bench.timing import fmt

N = 2000


def _plain_insert(i: int) -> None:
    with transaction.atomic():
        AuditEvent.objects.create(
            actor_type="system", actor_name="bench", action="bench.plain", prev_hash="-", row_hash=f"plain-{i}"
        )


def _chained(i: int) -> None:
    with transaction.atomic():
        audit_log(actor=SystemActor("bench"), action="bench.chained", data={"i": i})


def _threads(work: int, writers: int) -> float:
    per = work // writers
    barrier = threading.Barrier(writers)

    def body(w: int) -> None:
        barrier.wait()
        for i in range(per):
            _chained(w * per + i)
        connection.close()

    threads = [threading.Thread(target=body, args=(w,)) for w in range(writers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (time.perf_counter() - started) / (per * writers)


def _truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_event")


def run() -> None:
    _truncate()
    started = time.perf_counter()
    for i in range(N):
        _plain_insert(i)
    plain = (time.perf_counter() - started) / N
    _truncate()
    started = time.perf_counter()
    for i in range(N):
        _chained(i)
    single = (time.perf_counter() - started) / N
    _truncate()
    four = _threads(N, 4)
    report = audit_chain_verify()
    assert report.ok, report
    verify_started = time.perf_counter()
    audit_chain_verify()
    verify_per_row = (time.perf_counter() - verify_started) / report.checked

    print("\n== audit_chain: cost of the hash chain (baseline: plain INSERT in its own transaction) ==")
    for label, seconds in (
        ("plain INSERT (baseline)", plain),
        ("audit_log, one writer", single),
        ("audit_log, 4 concurrent writers", four),
        ("audit_verify, per row", verify_per_row),
    ):
        print(f"  {label:<36} {fmt(seconds)}   {seconds / plain:6.2f}x of a plain insert")
    print(f"  chain intact after concurrent writes: {report.checked} rows, no fork")
    _truncate()
