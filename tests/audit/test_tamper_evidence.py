"""What an attacker with write access to the database, but without the audit key or the checkpoint folder, can no
longer do unnoticed: empty the trail, cut its newest events, or re-hash an altered chain."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone
from psycopg.conninfo import make_conninfo

from apps.audit import checkpoints, hashing
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.audit.services import SystemActor, audit_log, audit_seal
from apps.audit.tasks import audit_verify_chain
from tests.dbroles import as_owner

FIELDS = (*hashing.HASHED_FIELDS, "id", "seq", "row_hash", "hash_version", "nonce", "content_mac")


def _events(n: int) -> list[AuditEvent]:
    """``n`` events, sealed (what the chain's tests need), as they are in the table."""
    ids = [audit_log(actor=SystemActor("test"), action=f"test.n{i}", data={"i": i}).pk for i in range(n)]
    assert audit_seal() == n
    return list(AuditEvent.objects.filter(pk__in=ids).order_by("seq"))


def _behind_the_triggers(sql: str, params: list[object] | None = None) -> None:
    """What the table's owner (or a superuser) can do: switch the append-only triggers off, write, switch back."""
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")


def _rehash_from(first_id: int, *, version: int) -> None:
    """Re-chain every row from ``first_id`` on as someone without the key can: plain SHA-256."""
    rows = list(AuditEvent.objects.filter(seq__isnull=False).order_by("seq").values(*FIELDS))
    prev = GENESIS_HASH
    for row in rows:
        if row["id"] >= first_id:
            row["prev_hash"] = prev
            digest = hashlib.sha256(hashing.canonical(row)).hexdigest()
            _behind_the_triggers(
                "UPDATE audit_event SET prev_hash = %s, row_hash = %s, hash_version = %s WHERE id = %s",
                [prev, digest, version, row["id"]],
            )
            prev = digest
        else:
            prev = row["row_hash"]


def _checkpoint() -> Path:
    out_path = audit_verify_chain()["checkpoint"]
    assert out_path
    return Path(str(out_path))


@pytest.mark.django_db
def test_it_keys_new_rows_with_the_audit_key_kept_out_of_the_database():
    (event,) = _events(1)
    row = AuditEvent.objects.values(*FIELDS).get(pk=event.pk)
    key = settings.AUDIT_HMAC_KEY.encode()
    assert row["hash_version"] == hashing.SEALED_HMAC_SHA256
    assert row["content_mac"] == hashing.content_mac(row, key=key)
    assert row["row_hash"] == hashing.seal_mac(
        seq=1, event_id=event.pk, prev_hash=GENESIS_HASH, content=row["content_mac"], key=key
    )
    assert row["row_hash"] != hashlib.sha256(hashing.canonical(row)).hexdigest()
    assert audit_chain_verify().ok
    with override_settings(AUDIT_HMAC_KEY="another-installation-key"):
        report = audit_chain_verify()
    assert report.first_broken_id == event.pk and "does not match its hash" in report.problem


@pytest.mark.django_db
def test_a_row_cannot_be_replayed_as_another_event():
    """Whoever may INSERT (the application's role) but lacks the key cannot pass a copy of an event off as a
    second one: the exact copy is refused (its nonce is taken), and a fresh nonce breaks the content MAC."""
    (event,) = _events(1)
    row = AuditEvent.objects.values(*hashing.CONTENT_FIELDS, "content_mac").get(pk=event.pk)
    with pytest.raises(IntegrityError, match="audit_nonce_unique"), transaction.atomic():
        AuditEvent.objects.create(**row)
    AuditEvent.objects.create(**{**row, "nonce": hashing.new_nonce()})  # allowed: unsealed, scheme 3, a MAC
    replay = AuditEvent.objects.get(seq__isnull=True)
    report = audit_chain_verify()
    assert report.first_broken_id == replay.pk and "does not match its hash (it is not sealed yet)" in report.problem
    assert audit_seal() == 1  # the sealer chains it all the same (it must never stall); verify names it still
    report = audit_chain_verify()
    assert report.first_broken_id == replay.pk and report.problem == "its content does not match its hash"


def test_nonces_are_unique_and_time_ordered():
    nonces = [hashing.new_nonce() for _ in range(1000)]
    assert len(set(nonces)) == 1000
    assert [n.int >> 72 for n in nonces] == sorted(n.int >> 72 for n in nonces)


@pytest.mark.django_db
def test_rows_of_schemes_1_and_2_still_verify_and_the_chain_carries_on_sealed():
    prev = GENESIS_HASH
    # what migration 0003 finds: scheme-1 rows (from before keyed hashing), then scheme-2 rows (from before
    # sealing), chained in id order; it gives them their positions in that order
    for i, version in enumerate((hashing.LEGACY_SHA256,) * 2 + (hashing.HMAC_SHA256,) * 2):
        row = {
            "occurred_at": timezone.now(),
            "actor_type": "system",
            "actor_id": "",
            "actor_name": "legacy",
            "action": f"test.legacy{i}",
            "target_type": "",
            "target_id": "",
            "target_label": "",
            "data": {},
            "request_id": "",
            "ip": None,
            "prev_hash": prev,
        }
        prev = hashing.row_hash(row, version)
        with as_owner():  # the owner may write a row with its hash (only it: tests/audit/test_append_only.py)
            AuditEvent.objects.create(**row, row_hash=prev, seq=i + 1, hash_version=version)
    sealed = audit_log(actor=None, action="test.sealed")
    assert audit_seal() == 1
    sealed.refresh_from_db()
    assert (sealed.seq, sealed.prev_hash, sealed.hash_version) == (5, prev, hashing.SEALED_HMAC_SHA256)
    report = audit_chain_verify()
    assert report.ok and report.checked == 5 and report.head_id == sealed.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "version",
    [hashing.SEALED_HMAC_SHA256, hashing.HMAC_SHA256, hashing.LEGACY_SHA256],
    ids=["kept-v3", "downgraded-v2", "downgraded-v1"],
)
def test_audit_verify_finds_an_altered_row_re_hashed_without_the_key(version):
    events = _events(5)
    _behind_the_triggers("UPDATE audit_event SET data = '{\"i\": 999}' WHERE id = %s", [events[2].pk])
    _rehash_from(events[2].pk, version=version)  # every link is consistent again, but not keyed
    expected = "does not match its hash" if version == hashing.SEALED_HMAC_SHA256 else "hashed without the key"
    with pytest.raises(CommandError, match=f"BROKEN at event #{events[2].pk}: .*{expected}"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_a_checkpoint_catches_a_whole_chain_re_hashed_without_the_key():
    events = _events(4)
    _checkpoint()
    _behind_the_triggers("UPDATE audit_event SET actor_name = 'nobody' WHERE id = %s", [events[1].pk])
    _rehash_from(events[0].pk, version=hashing.LEGACY_SHA256)  # the whole chain, as if never keyed
    assert audit_chain_verify(with_checkpoints=False).ok  # the links alone cannot tell
    report = audit_chain_verify()
    assert report.first_broken_id == events[-1].pk and "differs from the checkpoint" in report.problem


@pytest.mark.django_db
def test_audit_verify_finds_a_truncated_trail():
    _events(3)
    _checkpoint()
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_event")  # the owner may (the trigger refuses every other role)
    assert not AuditEvent.objects.exists()
    with pytest.raises(CommandError, match=r"the trail is empty but the checkpoint of .*\(3 events up to #.*truncated"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_audit_verify_finds_a_removed_newest_event():
    events = _events(4)
    _checkpoint()
    _behind_the_triggers("DELETE FROM audit_event WHERE id = %s", [events[-1].pk])
    assert audit_chain_verify(with_checkpoints=False).ok  # a shorter chain is still a valid chain
    with pytest.raises(CommandError, match=f"ends at #{events[-2].pk} after 3 events but .*4 events.*removed"):
        call_command("audit_verify")
    audit_log(actor=None, action="test.after_the_cut")  # new events chained onto the cut do not hide it
    assert audit_seal() == 1
    report = audit_chain_verify()
    assert not report.ok and "no longer in the trail" in report.problem


@pytest.mark.django_db
def test_a_forged_or_altered_checkpoint_is_reported():
    _events(2)
    path = _checkpoint()
    document = json.loads(path.read_text())
    document["count"] = 1  # to pass off a cut trail as complete
    path.write_text(json.dumps(document))
    report = audit_chain_verify()
    assert not report.ok and "wrong signature" in report.problem


@pytest.mark.django_db
def test_the_nightly_job_checkpoints_an_intact_chain_only(settings):
    events = _events(3)
    result = audit_verify_chain()
    assert result["ok"] and result["checked"] == 3
    written = json.loads(Path(str(result["checkpoint"])).read_text())
    assert (written["count"], written["last_id"], written["head_hash"]) == (3, events[-1].pk, events[-1].row_hash)
    assert written["written_at"] and len(written["signature"]) == 64
    assert Path(settings.AUDIT_CHECKPOINT_DIR).resolve() == Path(str(result["checkpoint"])).parent.resolve()
    call_command("audit_verify")  # intact, one checkpoint matched

    _behind_the_triggers("UPDATE audit_event SET action = 'test.other' WHERE id = %s", [events[0].pk])
    result = audit_verify_chain()
    assert not result["ok"] and result["first_broken_id"] == events[0].pk and result["checkpoint"] is None
    assert len(checkpoints.load().checkpoints) == 1
    with pytest.raises(CommandError, match="no checkpoint written"):
        call_command("audit_checkpoint")


@pytest.mark.skipif(settings.DATABASE_OWNER_ROLE == "postgres", reason="the superuser is the owner here")
@pytest.mark.django_db(transaction=True)
def test_truncate_is_refused_to_every_role_but_the_owner_even_a_superuser():
    audit_log(actor=None, action="test.kept")
    admin = make_conninfo(settings.DATABASE_ADMIN_URL, dbname=connection.settings_dict["NAME"])
    with psycopg.connect(admin, autocommit=True) as superuser:
        assert superuser.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (True,)
        superuser.execute("SET lock_timeout = '5s'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only: TRUNCATE refused"):
            superuser.execute("TRUNCATE audit_event")
    with transaction.atomic():
        assert AuditEvent.objects.filter(action="test.kept").exists()


@pytest.mark.django_db
def test_audit_verify_warns_when_no_checkpoint_could_tell_a_cut_trail():
    from io import StringIO

    _events(1)
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "Audit chain intact: 1 events verified, 0 checkpoints matched." in out.getvalue()
    assert "No checkpoint in" in out.getvalue() and "audit_checkpoint" in out.getvalue()
    call_command("audit_checkpoint", stdout=out)
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "1 checkpoints matched" in out.getvalue() and "No checkpoint" not in out.getvalue()
