"""Migration audit/0003 on a trail written the old way: rows of schemes 1 and 2, hashed at write time and chained in
id order, get their positions in that order, still verify, and the sealer carries the chain on from them."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.audit import hashing
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.audit.services import audit_log, audit_seal
from apps.core.dbroles import grant_app_privileges
from tests.dbroles import as_owner

BEFORE = [("audit", "0002_keyed_hash_truncate_guard")]
INSERT_OLD = (
    "INSERT INTO audit_event (occurred_at, actor_type, actor_id, actor_name, action, target_type, target_id, "
    "target_label, data, request_id, ip, prev_hash, row_hash, hash_version) "
    "VALUES (%s, 'system', '', 'legacy', %s, '', '', '', '{}', '', NULL, %s, %s, %s) RETURNING id"
)


def _migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_sealing_get_positions_in_id_order_and_still_verify():
    latest = [key for key in MigrationExecutor(connection).loader.graph.leaf_nodes() if key[0] == "audit"]
    ids, prev = [], GENESIS_HASH
    with as_owner():
        try:
            _migrate(BEFORE)
            with connection.cursor() as cursor:
                for i, version in enumerate((hashing.LEGACY_SHA256, hashing.LEGACY_SHA256, hashing.HMAC_SHA256)):
                    row = {
                        "occurred_at": timezone.now(),
                        "actor_type": "system",
                        "actor_id": "",
                        "actor_name": "legacy",
                        "action": f"test.old{i}",
                        "target_type": "",
                        "target_id": "",
                        "target_label": "",
                        "data": {},
                        "request_id": "",
                        "ip": None,
                        "prev_hash": prev,
                    }
                    digest = (
                        hashlib.sha256(hashing.canonical(row)).hexdigest()
                        if version == hashing.LEGACY_SHA256
                        else hashing.row_hash(row, hashing.HMAC_SHA256)
                    )
                    cursor.execute(INSERT_OLD, [row["occurred_at"], row["action"], prev, digest, version])
                    ids.append(cursor.fetchone()[0])
                    prev = digest
        finally:
            _migrate(latest)
            with connection.cursor() as cursor:
                grant_app_privileges(cursor)  # what manage.py migrate does after every run
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "id")) == [(1, ids[0]), (2, ids[1]), (3, ids[2])]
    report = audit_chain_verify()
    assert report.ok and report.checked == 3 and report.head_hash == prev
    event = audit_log(actor=None, action="test.after_the_upgrade")
    assert audit_seal() == 1
    event.refresh_from_db()
    assert (event.seq, event.prev_hash) == (4, prev)
    assert audit_chain_verify().checked == 4
