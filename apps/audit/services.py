"""``audit_log``: the one way to write the audit trail. Call it inside the transaction of the change."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from apps.audit import hashing
from apps.audit.choices import ActorType
from apps.audit.models import GENESIS_HASH, AuditEvent
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


@transaction.atomic
def audit_log(
    *,
    actor: AuditActor | None,
    action: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the hash chain.

    Side effects: takes the chain's transaction-level advisory lock, held until the caller's transaction
    ends, so audit writes are serialised system-wide. Call it last in a service, just before commit.
    """
    if not action or "." not in action:
        raise ValueError(f"audit action must be a dotted code like 'player.blocked', got {action!r}")
    actor_type, actor_id, actor_name = (actor or SYSTEM).audit_identity()
    with connection.cursor() as cursor:
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
    row["row_hash"] = hashing.row_hash(row)
    return AuditEvent.objects.create(**row)
