from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.selectors import audit_chain_verify, audit_events_for
from apps.audit.services import SystemActor, audit_log, audit_seal
from apps.core import context
from tests.dbroles import as_owner
from tests.factories import StaffUserFactory


@pytest.mark.django_db
def test_it_records_actor_target_data_request_id_and_ip():
    actor = StaffUserFactory()
    target = StaffUserFactory(username="bob")
    with context.bound(request_id="req-1", client_ip="2001:0db8:0000::1"):
        event = audit_log(actor=actor, action="staff.updated", target=target, data={"old": 1, "new": "2.50"})
    event.refresh_from_db()
    assert (event.actor_type, event.actor_id, event.actor_name) == ("staff", str(actor.pk), actor.username)
    assert (event.target_type, event.target_id, event.target_label) == ("staff.staffuser", str(target.pk), str(target))
    assert event.data == {"old": 1, "new": "2.50"}
    assert event.request_id == "req-1" and event.ip == "2001:db8::1"
    assert list(audit_events_for(target)) == [event]


@pytest.mark.django_db
def test_it_writes_unsealed_and_the_sealer_chains_each_row_to_the_previous_one():
    first = audit_log(actor=SystemActor("test"), action="test.first")
    second = audit_log(actor=None, action="test.second")
    assert (first.seq, first.prev_hash, first.row_hash) == (None, None, None)
    assert first.content_mac and first.hash_version == 3
    report = audit_chain_verify()
    assert report.ok and report.checked == 0 and report.lag.unsealed == 2
    assert audit_seal() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.row_hash
    assert second.actor_type == "system"
    report = audit_chain_verify()
    assert report.ok and report.checked == 2 and report.lag.unsealed == 0
    assert (report.head_id, report.head_hash) == (second.pk, second.row_hash)
    assert audit_seal() == 0


@pytest.mark.django_db
def test_it_rejects_an_action_that_is_not_a_dotted_code():
    with pytest.raises(ValueError):
        audit_log(actor=None, action="blocked")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_the_database_rejects_update_and_delete():
    """The application's role has no UPDATE or DELETE on the trail; the owner is stopped by the trigger, sealed
    or not (tests/audit/test_append_only.py has every case)."""
    event = audit_log(actor=None, action="test.immutable")
    for statement in (
        "UPDATE audit_event SET action = 'test.changed' WHERE id = %s",
        "DELETE FROM audit_event WHERE id = %s",
    ):
        with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic(), connection.cursor() as c:
            c.execute(statement, [event.pk])
        with pytest.raises(ProgrammingError, match="append-only"), as_owner(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    with pytest.raises(ProgrammingError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="test.changed")
    event.refresh_from_db()
    assert event.action == "test.immutable"


def _tamper(sql: str, params: list[object]) -> None:
    """Change a row behind the trigger's back, as someone with table-owner rights could."""
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")


@pytest.mark.django_db
def test_audit_verify_reports_the_first_altered_row():
    events = [audit_log(actor=None, action=f"test.n{i}") for i in range(5)]
    audit_seal()
    call_command("audit_verify")  # intact
    _tamper('UPDATE audit_event SET data = \'{"amount": "1000000"}\' WHERE id = %s', [events[2].pk])
    with pytest.raises(CommandError, match=f"BROKEN at event #{events[2].pk}: its content"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_audit_verify_reports_a_deleted_row():
    events = [audit_log(actor=None, action=f"test.n{i}") for i in range(4)]
    audit_seal()
    _tamper("DELETE FROM audit_event WHERE id = %s", [events[1].pk])
    report = audit_chain_verify()
    assert report.first_broken_id == events[2].pk and "prev_hash" in report.problem


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_then_one_seal_do_not_fork_the_chain():
    """(tests/audit/test_sealing.py has writers and sealers at the same time)"""
    threads_n, per_thread = 8, 15
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit_log(actor=SystemActor(f"writer-{n}"), action=f"test.concurrent{i}")
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert AuditEvent.objects.count() == threads_n * per_thread
    assert audit_seal(batch_size=7) == threads_n * per_thread
    prevs = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prevs) == len(set(prevs)), "two rows claim the same predecessor: the chain forked"
    report = audit_chain_verify()
    assert report.ok and report.checked == threads_n * per_thread


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_gap_in_the_chain():
    audit_log(actor=None, action="test.before")
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_log(actor=None, action="test.rolled_back")
        raise RuntimeError
    audit_log(actor=None, action="test.after")
    assert audit_seal() == 2
    report = audit_chain_verify()
    assert report.ok and report.checked == 2


def test_the_writers_insert_names_every_content_column_once():
    from apps.audit import hashing
    from apps.audit.services import COLUMNS, INSERT_SQL

    assert set(COLUMNS) == {*hashing.CONTENT_FIELDS, "content_mac"} and len(COLUMNS) == len(set(COLUMNS))
    assert INSERT_SQL.startswith(f"INSERT INTO audit_event ({', '.join(COLUMNS)}) VALUES")
    assert INSERT_SQL.count("%s") == len(COLUMNS) and INSERT_SQL.endswith("RETURNING id")
