"""``audit_log``: the one way to write the audit trail. Call it inside the transaction of the change."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from apps.audit import checkpoints, hashing
from apps.audit.choices import ActorType
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.selectors import ChainReport, audit_chain_verify
from apps.core import context

# One constant key for the chain's advisory lock ("audit" in ASCII).
CHAIN_LOCK_KEY = 0x6175646974


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


def audit_log(
    *,
    actor: AuditActor | None,
    action: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> AuditEvent:
    """Append one event to the hash chain, keyed with ``AUDIT_HMAC_KEY`` (scheme 2, see ``hashing.py``).

    ``using``: the connection whose transaction the event joins; DDL on the owner's connection (the ledger's
    partition switch) audits itself there, so the event commits or rolls back with it.

    Side effects: takes the chain's transaction-level advisory lock, held until the caller's transaction
    ends, so audit writes are serialised system-wide. Call it last in a service, just before commit.
    """
    if not action or "." not in action:
        raise ValueError(f"audit action must be a dotted code like 'player.blocked', got {action!r}")
    actor_type, actor_id, actor_name = (actor or SYSTEM).audit_identity()
    with transaction.atomic(using=using):
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
            cursor.execute("SELECT row_hash FROM audit_event ORDER BY id DESC LIMIT 1")
            head = cursor.fetchone()
        row: dict[str, Any] = {
            "occurred_at": timezone.now(),
            "actor_type": str(actor_type),
            "actor_id": str(actor_id),
            "actor_name": str(actor_name)[:150],
            "action": action,
            **_target_fields(target),
            "data": hashing.normalise_data(data),
            "request_id": context.current_request_id() or "",
            "ip": _normalise_ip(context.current_client_ip()),
            "prev_hash": head[0] if head else GENESIS_HASH,
        }
        row["hash_version"] = hashing.CURRENT
        row["row_hash"] = hashing.row_hash(row, hashing.CURRENT)
        return AuditEvent.objects.using(using).create(**row)


def audit_checkpoint_write() -> tuple[ChainReport, Path | None]:
    """Verify the chain (against the checkpoints so far), then write a signed checkpoint of the verified head
    outside the database. A broken chain gets no checkpoint: that would bless what was done to it.

    Side effects: one file in ``AUDIT_CHECKPOINT_DIR``. Reads only (not audited: a checkpoint is evidence about
    the trail, and writing an event for it would move the head it just recorded).
    """
    report = audit_chain_verify()
    if not report.ok:
        return report, None
    path = checkpoints.write(count=report.checked, last_id=report.head_id, head_hash=report.head_hash)
    return report, path
