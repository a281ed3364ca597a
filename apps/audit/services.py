"""``audit_log``: the one way to write the audit trail. Call it inside the transaction of the change.

``audit_seal``: the one way to chain what was written (the beat task and ``manage.py audit_seal`` call it).
Writers never wait for each other or for the sealer: see ``apps/audit/models.py`` for the design and why a row
cannot change between its write and its seal.
"""

from __future__ import annotations

import ipaddress
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import structlog
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from apps.audit import checkpoints, hashing
from apps.audit.choices import ActorType
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.selectors import ChainReport, audit_chain_verify
from apps.core import context
from apps.core.bulksql import insert_select

log = structlog.get_logger(__name__)

# The sealer's advisory lock ("seal" in ASCII): held by the one sealer at work, for one batch's transaction.
# Writers never take it (nor any other system-wide lock).
SEAL_LOCK_KEY = 0x7365616C
SEAL_BATCH_SIZE = 1000


@runtime_checkable
class AuditActor(Protocol):
    def audit_identity(self) -> tuple[str, str, str]:
        """(actor_type, actor_id, actor_name)"""
        ...


@dataclass(frozen=True)
class SystemActor:
    """Work done by the system itself: a beat job, a migration, a command run without a staff member."""

    name: str = "system"

    def audit_identity(self) -> tuple[str, str, str]:
        return (ActorType.SYSTEM, "", self.name)


SYSTEM = SystemActor()


def _normalise_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return clean_ipv6_address(ip) if parsed.version == 6 else str(parsed)


def target_key(target: models.Model) -> str:
    """The target's id in the trail: its primary key, or ``audit_pk`` when the key is not fit to show."""
    return str(getattr(target, "audit_pk", target.pk))


def _target_fields(target: models.Model | None) -> dict[str, str]:
    if target is None:
        return {"target_type": "", "target_id": "", "target_label": ""}
    meta = target._meta
    return {
        "target_type": f"{meta.app_label}.{meta.model_name}",
        "target_id": target_key(target),
        "target_label": str(target)[:255],
    }


# What a writer sets (hashing.CONTENT_FIELDS and the content MAC), in INSERT_SQL's order.
COLUMNS = (
    "nonce",
    "hash_version",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "data",
    "request_id",
    "ip",
    "content_mac",
)
EVENT_FIELDS = [field.attname for field in AuditEvent._meta.concrete_fields]
# COLUMNS with their SQL types (``data`` goes in as JSON text, cast)
_COLUMN_TYPES = [
    (name, str(AuditEvent._meta.get_field(name).db_type(connections[DEFAULT_DB_ALIAS]))) for name in COLUMNS
]
INSERT_SQL = (
    "INSERT INTO audit_event (nonce, hash_version, occurred_at, actor_type, actor_id, actor_name, action, "
    "target_type, target_id, target_label, data, request_id, ip, content_mac) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s::inet, %s) RETURNING id"
)


def _who(actor: AuditActor | None, action: str) -> dict[str, Any]:
    """What every event of this actor and action (in this request or task) says of who did what, where."""
    if not action or "." not in action:
        raise ValueError(f"audit action must be a dotted code like 'player.blocked', got {action!r}")
    actor_type, actor_id, actor_name = (actor or SYSTEM).audit_identity()
    return {
        "actor_type": str(actor_type),
        "actor_id": str(actor_id),
        "actor_name": str(actor_name)[:150],
        "action": action,
        "request_id": context.current_request_id() or "",
        "ip": _normalise_ip(context.current_client_ip()),
    }


def _row(
    who: dict[str, Any], target: models.Model | None, data: dict[str, Any], occurred_at: Any
) -> tuple[str, dict[str, Any]]:
    """One event's content with its nonce and content MAC, and its data as the JSON text the INSERT takes."""
    data_json = json.dumps(data, cls=DjangoJSONEncoder)
    row: dict[str, Any] = {
        "occurred_at": occurred_at,
        **who,
        **_target_fields(target),
        "data": json.loads(data_json),  # what JSONB gives back (hashing.normalise_data)
        "hash_version": hashing.SEALED_HMAC_SHA256,
        "nonce": hashing.new_nonce(),
    }
    row["content_mac"] = hashing.content_mac(row)
    return data_json, row


def audit_log(
    *,
    actor: AuditActor | None,
    action: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> AuditEvent:
    """Append one event to the trail, unsealed: its content, a unique ``nonce`` and ``content_mac`` (scheme 3,
    see ``hashing.py``), which binds content, time and nonce under ``AUDIT_HMAC_KEY``. The sealer gives it its
    chain position and hashes within seconds of the caller's commit (``audit_seal``); until then ``seq``,
    ``prev_hash`` and ``row_hash`` of the returned event are None.

    ``using``: the connection whose transaction the event joins; DDL on the owner's connection (the ledger's
    partition switch) audits itself there, so the event commits or rolls back with it.

    Side effects: one INSERT. No lock: concurrent writers do not wait for each other, and a rolled-back caller
    leaves no trace (a gap in ids, never in the chain).
    """
    who = _who(actor, action)
    data_json, row = _row(who, target, data if data is not None else {}, timezone.now())
    with connections[using].cursor() as cursor:
        # Plain SQL, one constant statement (prepared after a few runs): the ORM's INSERT costs several times
        # the CPU of the rest of audit_log, on every audited action (bench/audit_chain.py). One round trip:
        # the content MAC needs nothing from the database (the id is bound by the seal).
        cursor.execute(INSERT_SQL, [data_json if name == "data" else row[name] for name in COLUMNS])
        row["id"] = cursor.fetchone()[0]
    # as if read back (positional: several times cheaper than keyword arguments)
    return AuditEvent.from_db(using, EVENT_FIELDS, [row.get(name) for name in EVENT_FIELDS])


def audit_log_many(
    *,
    actor: AuditActor | None,
    action: str,
    items: list[tuple[models.Model | None, dict[str, Any]]],
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """``audit_log`` for many events of one actor and action (a campaign's chunk of awards: one event per bonus,
    each with its own target, data, nonce and content MAC), in ONE multi-row INSERT. Returns how many."""
    who = _who(actor, action)
    if not items:
        return 0
    occurred_at = timezone.now()
    rows: list[list[Any]] = []
    for target, data in items:
        data_json, row = _row(who, target, data, occurred_at)
        rows.append([data_json if name == "data" else row[name] for name in COLUMNS])
    sql, params = insert_select("audit_event", _COLUMN_TYPES, rows)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
    return len(items)


def _seal_batch(*, batch_size: int, using: str) -> int | None:
    """Seal up to ``batch_size`` unsealed rows visible now, in one transaction; None when another sealer holds
    the seal lock. Killed half-way, the transaction rolls back whole and the next run finds the same rows."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return None
        # Taken after the lock, in READ COMMITTED: the head as the previous sealer committed it.
        cursor.execute("SELECT seq, row_hash FROM audit_event WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
        head = cursor.fetchone()
        # "Unsealed", not "ids above the last one sealed": a row whose transaction commits after higher ids were
        # sealed is still unsealed here, and gets the next position; nothing can be skipped.
        cursor.execute("SELECT id, content_mac FROM audit_event WHERE seq IS NULL ORDER BY id LIMIT %s", [batch_size])
        pending = cursor.fetchall()
        if not pending:
            return 0
        first_seq = (head[0] if head else 0) + 1
        first_prev = head[1] if head else GENESIS_HASH
        prev, hashes = first_prev, []
        for offset, (event_id, content) in enumerate(pending):
            prev = hashing.seal_mac(seq=first_seq + offset, event_id=event_id, prev_hash=prev, content=content or "")
            hashes.append(prev)
        cursor.execute(
            "SELECT audit_event_seal(%s::bigint[], %s::text[], %s::bigint, %s::text)",
            [[event_id for event_id, _ in pending], hashes, first_seq, first_prev],
        )
        return int(cursor.fetchone()[0])


def audit_seal(
    *, batch_size: int = SEAL_BATCH_SIZE, max_seconds: float | None = None, using: str = DEFAULT_DB_ALIAS
) -> int:
    """Chain every event committed so far: the next positions, in batches of ``batch_size``, each batch its own
    transaction, until none is left (or ``max_seconds`` have passed; the next run carries on). Returns how many
    were sealed: 0 when there was nothing to seal, or when another sealer is at work (two never run at once).

    Side effects: UPDATEs of the seal columns through ``audit_event_seal()``, nothing else. Not audited itself
    (an event about sealing would need sealing). Safe to run at any time, from anywhere, any number of times.
    """
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    total = 0
    while True:
        try:
            sealed = _seal_batch(batch_size=batch_size, using=using)
        except DatabaseError as exc:
            if getattr(getattr(exc, "__cause__", None), "sqlstate", None) != "40001":
                raise
            log.warning("audit_seal_raced", problem=str(exc).splitlines()[0])  # someone sealed without the lock
            return total
        if sealed is None:
            return total
        total += sealed
        if sealed < batch_size or (deadline is not None and time.monotonic() >= deadline):
            return total


def audit_checkpoint_write() -> tuple[ChainReport, Path | None]:
    """Seal what is pending, verify the sealed chain (against the checkpoints so far), then write a signed
    checkpoint of the verified head outside the database. A broken chain gets no checkpoint: that would bless
    what was done to it.

    Side effects: seals pending events (``audit_seal``); one file in ``AUDIT_CHECKPOINT_DIR``. Not audited: a
    checkpoint is evidence about the trail, and writing an event for it would move the head it just recorded.
    """
    audit_seal()
    report = audit_chain_verify()
    if not report.ok:
        return report, None
    path = checkpoints.write(count=report.checked, last_id=report.head_id, head_hash=report.head_hash)
    return report, path
