"""The sealer: writers never wait for it, it never skips a row (even one committed after later rows were sealed),
two never run at once, a killed one loses only its uncommitted batch, and its lag is reported everywhere."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from io import StringIO

import psycopg
import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from psycopg.conninfo import make_conninfo

from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.selectors import audit_chain_verify, audit_seal_lag
from apps.audit.services import SystemActor, audit_log, audit_seal
from apps.audit.tasks import audit_seal_pending


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _owner_conninfo() -> str:
    """A separate login as the suite's login role, the owner (it may lock rows and end other backends)."""
    s = connection.settings_dict
    return make_conninfo(
        dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"] or None, host=s["HOST"], port=s["PORT"] or None
    )


def _chain() -> list[tuple[int, int, str, str]]:
    return list(AuditEvent.objects.order_by("seq").values_list("seq", "id", "prev_hash", "row_hash"))


def _assert_one_unbroken_chain(expected: int) -> None:
    rows = _chain()
    assert [seq for seq, *_ in rows] == list(range(1, expected + 1)), "a row is unsealed, or a position is missing"
    assert rows[0][2] == GENESIS_HASH
    assert all(rows[i][2] == rows[i - 1][3] for i in range(1, len(rows)))
    report = audit_chain_verify()
    assert report.ok, report.problem
    assert report.checked == expected and report.lag.unsealed == 0


@contextmanager
def _in_thread(target: Callable[[], None], errors: list[BaseException]) -> Iterator[threading.Thread]:
    thread = threading.Thread(target=_report_errors(target, errors))
    thread.start()
    try:
        yield thread
    finally:
        thread.join(timeout=60)


@pytest.mark.django_db(transaction=True)
def test_writers_and_two_sealers_at_once_make_one_chain_and_a_late_commit_is_not_skipped():
    writers, per_writer = 8, 25
    errors: list[BaseException] = []
    stop = threading.Event()
    late_written, late_commit = threading.Event(), threading.Event()
    late_ids: list[int] = []
    sealed_by: list[int] = []

    def late_writer() -> None:
        # a long transaction: its row has a low id but becomes visible after higher ids were sealed
        with transaction.atomic():
            late_ids.append(audit_log(actor=SystemActor("late"), action="test.late").pk)
            late_written.set()
            assert late_commit.wait(60)

    def writer(n: int) -> Callable[[], None]:
        def body() -> None:
            assert late_written.wait(60)
            for i in range(per_writer):
                with transaction.atomic():
                    audit_log(actor=SystemActor(f"writer-{n}"), action="test.concurrent", data={"i": i})

        return body

    def sealer() -> None:
        while not stop.is_set():
            sealed_by.append(audit_seal(batch_size=7))
            time.sleep(0.005)

    threads = []
    with _in_thread(late_writer, errors):
        assert late_written.wait(30)
        for n in range(writers):
            threads.append(threading.Thread(target=_report_errors(writer(n), errors)))
        sealers = [threading.Thread(target=_report_errors(sealer, errors)) for _ in range(2)]
        for t in (*threads, *sealers):
            t.start()
        for t in threads:
            t.join(timeout=120)
        (late_id,) = late_ids
        _wait_for(
            lambda: AuditEvent.objects.filter(id__gt=late_id, seq__isnull=False).count() == writers * per_writer,
            "the sealer to seal every committed row",
        )
        assert not AuditEvent.objects.filter(pk=late_id).exists()  # not committed: nobody else sees it yet
        late_commit.set()
    _wait_for(lambda: AuditEvent.objects.get(pk=late_id).seq is not None, "the late row to be sealed")
    stop.set()
    for t in sealers:
        t.join(timeout=60)
    assert not errors, errors
    total = writers * per_writer + 1
    assert sum(sealed_by) == total  # each row sealed once, by whichever sealer had the lock
    late = AuditEvent.objects.get(pk=late_id)
    assert late.seq == total  # the next position after everything sealed before it committed, not skipped
    assert AuditEvent.objects.filter(id__gt=late_id).count() == writers * per_writer
    _assert_one_unbroken_chain(total)


def _report_errors(target: Callable[[], None], errors: list[BaseException]) -> Callable[[], None]:
    def body() -> None:
        try:
            target()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    return body


@contextmanager
def _row_locked(event_id: int) -> Iterator[psycopg.Connection]:
    """Hold one row locked from another session (as the owner: the application may not lock audit rows), so a
    sealer reaching it waits there, half-way through its batch."""
    with psycopg.connect(_owner_conninfo()) as blocker:
        blocker.execute("SELECT 1 FROM audit_event WHERE id = %s FOR UPDATE", [event_id])
        yield blocker
        blocker.rollback()


def _waiting_sealer_pid(blocker: psycopg.Connection) -> int:
    found: list[int] = []

    def waiting() -> bool:
        blocker.execute("SELECT pg_stat_clear_snapshot()")  # the view is read once per transaction otherwise
        rows = blocker.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE %s",
            ["%audit_event_seal(%"],
        ).fetchall()
        found[:] = [row[0] for row in rows]
        return bool(found)

    _wait_for(waiting, "the sealer to wait half-way through its batch")
    (pid,) = found
    return pid


@pytest.mark.django_db(transaction=True)
def test_a_sealer_killed_mid_batch_seals_nothing_and_the_next_run_seals_everything():
    events = [audit_log(actor=SystemActor("test"), action="test.n", data={"i": i}) for i in range(40)]
    errors: list[BaseException] = []
    with _row_locked(events[25].pk) as blocker, _in_thread(lambda: audit_seal(batch_size=100), errors) as sealer:
        pid = _waiting_sealer_pid(blocker)
        # half-way: its batch is not visible, and a second sealer does not run beside it
        assert audit_seal() == 0
        assert audit_seal_lag().unsealed == 40
        assert blocker.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        sealer.join(timeout=30)
    assert len(errors) == 1 and isinstance(errors[0], DatabaseError)  # its connection was ended
    assert not AuditEvent.objects.filter(seq__isnull=False).exists()  # the whole batch rolled back
    assert audit_seal() == 40
    _assert_one_unbroken_chain(40)


@pytest.mark.django_db(transaction=True)
def test_a_sealer_that_commits_batches_then_dies_leaves_a_chain_the_next_run_continues():
    events = [audit_log(actor=SystemActor("test"), action="test.n", data={"i": i}) for i in range(30)]
    errors: list[BaseException] = []
    with _row_locked(events[25].pk) as blocker, _in_thread(lambda: audit_seal(batch_size=10), errors) as sealer:
        pid = _waiting_sealer_pid(blocker)  # in its third batch: the first two are committed
        blocker.execute("SELECT pg_terminate_backend(%s)", [pid])
        sealer.join(timeout=30)
    assert len(errors) == 1
    assert AuditEvent.objects.filter(seq__isnull=False).count() == 20
    assert audit_seal() == 10
    _assert_one_unbroken_chain(30)


@pytest.mark.django_db
def test_the_lag_is_reported_by_verify_metrics_readyz_and_the_commands():
    written = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(written, tick=False):
        for i in range(3):
            audit_log(actor=None, action="test.waiting", data={"i": i})
    with time_machine.travel(written + timedelta(minutes=10), tick=False):
        lag = audit_seal_lag()
        assert (lag.unsealed, lag.oldest_at, lag.seconds()) == (3, written, 600.0)
        report = audit_chain_verify()
        assert report.ok and report.checked == 0 and report.lag == lag
        out = StringIO()
        call_command("audit_verify", stdout=out)
        assert "3 events not sealed yet (content verified), the oldest written 600.0 s ago" in out.getvalue()
        metrics = Client().get("/metrics").content.decode()
        assert "pitboss_audit_unsealed_events 3.0" in metrics
        assert "pitboss_audit_seal_lag_seconds 600.0" in metrics
        ready = Client().get("/readyz")
        assert ready.status_code == 200  # a lag is no reason to take this process out of the load balancer
        assert ready.json()["audit_seal"] == {"unsealed": 3, "oldest_seconds": 600.0}
        out = StringIO()
        call_command("audit_seal", stdout=out)
        assert "Sealed 3 audit events; 0 waiting." in out.getvalue()
        assert audit_seal_lag() == type(lag)(0, None)
        assert "pitboss_audit_seal_lag_seconds 0.0" in Client().get("/metrics").content.decode()
        out = StringIO()
        call_command("audit_verify", stdout=out)
        assert "3 events verified" in out.getvalue() and "No event waits for the sealer." in out.getvalue()


@pytest.mark.django_db
def test_the_beat_task_seals_and_is_scheduled_every_two_seconds_on_the_compliance_queue():
    from django_celery_beat.models import PeriodicTask

    audit_log(actor=None, action="test.one")
    audit_log(actor=None, action="test.two")
    assert audit_seal_pending() == 2
    assert audit_seal_pending() == 0
    call_command("install_schedule", stdout=StringIO())
    entry = PeriodicTask.objects.get(task="apps.audit.tasks.audit_seal_pending")
    assert (entry.interval.every, entry.interval.period, entry.crontab) == (2, "seconds", None)
    assert (entry.queue, entry.expire_seconds, entry.enabled) == ("compliance", 10, True)


@pytest.mark.django_db
def test_a_run_stops_after_its_time_budget_and_the_next_carries_on():
    for i in range(5):
        audit_log(actor=None, action="test.n", data={"i": i})
    assert audit_seal(batch_size=2, max_seconds=0) == 2  # one batch, then out of time
    assert audit_seal(batch_size=2) == 3
    _assert_one_unbroken_chain(5)


@pytest.mark.django_db
def test_a_rolled_back_seal_is_sealed_again_by_the_next_run():
    for i in range(3):
        audit_log(actor=None, action="test.n", data={"i": i})
    with pytest.raises(RuntimeError), transaction.atomic():
        assert audit_seal() == 3
        raise RuntimeError
    assert audit_seal_lag().unsealed == 3
    assert audit_seal() == 3
    _assert_one_unbroken_chain(3)
