"""The trail is append-only from an event's first write, not only from its seal: what the application's role (the
suite acts as it) and even the owner may not do to a row, sealed or not, and the one way a row is sealed."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from apps.audit import hashing
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.audit.services import audit_log, audit_seal
from tests.dbroles import as_owner

SEAL = "SELECT audit_event_seal(%s::bigint[], %s::text[], %s::bigint, %s::text)"


def _refused(sql: str, params: list[object] | None = None, *, owner: bool = False) -> str:
    """Run ``sql`` as the application (or the owner) and return why the database refused it."""
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        if owner:
            with as_owner(), connection.cursor() as cursor:
                cursor.execute(sql, params)
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
    return str(refused.value)


def _current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return str(cursor.fetchone()[0])


def _unsealed() -> AuditEvent:
    return audit_log(actor=None, action="test.written", data={"amount": "10.00"})


def _sealed() -> AuditEvent:
    event = _unsealed()
    assert audit_seal() >= 1
    event.refresh_from_db()
    return event


@pytest.mark.django_db
def test_the_suite_acts_as_the_application_role(settings):
    assert _current_user() == settings.DATABASE_APP_ROLE


@pytest.mark.django_db
@pytest.mark.parametrize("sealed", [False, True], ids=["unsealed", "sealed"])
def test_the_application_role_may_neither_update_nor_delete_a_row(sealed):
    event = _sealed() if sealed else _unsealed()
    for sql in (
        'UPDATE audit_event SET data = \'{"amount": "1000.00"}\' WHERE id = %s',
        "UPDATE audit_event SET seq = 99, prev_hash = repeat('0', 64), row_hash = repeat('1', 64) WHERE id = %s",
        "DELETE FROM audit_event WHERE id = %s",
    ):
        assert "permission denied for table audit_event" in _refused(sql, [event.pk])
    # locking a row (to hold the sealer up) needs UPDATE too
    assert "permission denied" in _refused("SELECT 1 FROM audit_event WHERE id = %s FOR UPDATE", [event.pk])


@pytest.mark.django_db
def test_the_owner_may_not_change_an_unsealed_rows_content_or_delete_it():
    """The trigger holds for every role, the owner included (only disabling it, which only the owner may, and
    which the chain's MACs then show, gets past it)."""
    event = _unsealed()
    assert "sets seq, prev_hash and row_hash" in _refused(
        'UPDATE audit_event SET data = \'{"amount": "1000.00"}\' WHERE id = %s', [event.pk], owner=True
    )
    assert "may set the seal columns only" in _refused(
        "UPDATE audit_event SET seq = 1, prev_hash = %s, row_hash = repeat('1', 64), actor_name = 'nobody' "
        "WHERE id = %s",
        [GENESIS_HASH, event.pk],
        owner=True,
    )
    assert "may set the seal columns only" in _refused(
        "UPDATE audit_event SET seq = 1, prev_hash = %s, row_hash = repeat('1', 64), content_mac = repeat('2', 64) "
        "WHERE id = %s",
        [GENESIS_HASH, event.pk],
        owner=True,
    )
    assert "DELETE of event" in _refused("DELETE FROM audit_event WHERE id = %s", [event.pk], owner=True)
    assert AuditEvent.objects.get(pk=event.pk).data == {"amount": "10.00"}


@pytest.mark.django_db
def test_a_sealed_row_never_changes_again_not_even_its_seal():
    event = _sealed()
    for sql in (
        "UPDATE audit_event SET row_hash = repeat('1', 64) WHERE id = %s",
        "UPDATE audit_event SET seq = NULL, prev_hash = NULL, row_hash = NULL WHERE id = %s",
        "UPDATE audit_event SET action = 'test.other' WHERE id = %s",
    ):
        assert "is sealed and never changes" in _refused(sql, [event.pk], owner=True)
    assert "DELETE of event" in _refused("DELETE FROM audit_event WHERE id = %s", [event.pk], owner=True)


@pytest.mark.django_db
def test_a_new_row_must_come_unsealed_with_its_content_mac():
    columns = (
        "INSERT INTO audit_event (occurred_at, actor_type, actor_id, actor_name, action, target_type, target_id, "
        "target_label, data, request_id, hash_version, nonce, content_mac, seq, prev_hash, row_hash) "
        "VALUES (now(), 'system', '', 't', 'test.row', '', '', '', '{}', '', %s, gen_random_uuid(), %s, %s, %s, %s)"
    )
    head = _sealed()
    pre_sealed = [3, "c" * 64, head.seq + 1, head.row_hash, "d" * 64]  # would take the sealer's next position
    assert "written unsealed" in _refused(columns, pre_sealed)
    assert "written unsealed" in _refused(columns, [2, None, None, None, None])  # the pre-sealing scheme
    assert "written unsealed" in _refused(columns, [3, None, None, None, None])  # no content MAC
    assert "audit_sealed_all_or_nothing" in _refused(columns, [3, "c" * 64, head.seq + 1, None, None], owner=True)
    no_nonce = columns.replace("gen_random_uuid()", "NULL")
    assert "written unsealed" in _refused(no_nonce, [3, "c" * 64, None, None, None])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(columns, [3, "c" * 64, None, None, None])  # what audit_log writes (a forged MAC, here)


@pytest.mark.django_db
def test_only_the_seal_function_seals_and_it_links_the_batch_onto_the_head():
    head = _sealed()
    first, second = _unsealed(), _unsealed()
    hashes = ["a" * 64, "b" * 64]
    assert "does not link onto the sealed head" in _refused(SEAL, [[first.pk, second.pk], hashes, 5, head.row_hash])
    assert "does not link onto the sealed head" in _refused(SEAL, [[first.pk, second.pk], hashes, 2, GENESIS_HASH])
    assert "missing or sealed already" in _refused(SEAL, [[head.pk], hashes[:1], head.seq + 1, head.row_hash])
    assert "missing or sealed already" in _refused(SEAL, [[first.pk, first.pk], hashes, head.seq + 1, head.row_hash])
    assert "2 events but 1 row hashes" in _refused(SEAL, [[first.pk, second.pk], hashes[:1], 2, head.row_hash])
    # The application may call it (the sealer runs as the application): with hashes made without the key, the
    # rows are chained, and the verifier names the first one.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SEAL, [[first.pk, second.pk], hashes, head.seq + 1, head.row_hash])
        assert cursor.fetchone() == (2,)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.seq, first.prev_hash, second.seq, second.prev_hash) == (2, head.row_hash, 3, "a" * 64)
    report = audit_chain_verify()
    assert report.first_broken_id == first.pk and report.problem == "its position or link does not match its hash"


@pytest.mark.django_db
def test_the_seal_function_runs_as_the_owner_and_is_granted_to_the_application_only(settings):
    with as_owner(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.prosecdef, pg_get_userbyid(p.proowner), has_function_privilege(%s, p.oid, 'EXECUTE'), "
            "has_function_privilege('public', p.oid, 'EXECUTE'), pg_get_userbyid(c.relowner) "
            "FROM pg_proc p, pg_class c WHERE p.oid = to_regprocedure(%s) AND c.oid = 'audit_event'::regclass",
            [settings.DATABASE_APP_ROLE, "audit_event_seal(bigint[], text[], bigint, text)"],
        )
        definer, owner, app_may, public_may, table_owner = cursor.fetchone()
    assert definer and owner == table_owner != settings.DATABASE_APP_ROLE
    assert app_may and not public_may


@pytest.mark.django_db
def test_a_row_altered_behind_the_disabled_trigger_before_its_seal_is_found_after_it():
    """The one way left to change an unsealed row is the owner's (disable the trigger): the content MAC,
    written with the row by the key holder, shows it whether the sealer got to the row before or after."""
    event = _unsealed()
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
        cursor.execute('UPDATE audit_event SET data = \'{"amount": "1000.00"}\' WHERE id = %s', [event.pk])
        cursor.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")
    report = audit_chain_verify()
    assert report.first_broken_id == event.pk and "not sealed yet" in report.problem
    audit_seal()
    report = audit_chain_verify()
    assert report.first_broken_id == event.pk and report.problem == "its content does not match its hash"
    assert AuditEvent.objects.get(pk=event.pk).hash_version == hashing.SEALED_HMAC_SHA256
