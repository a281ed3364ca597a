from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from apps.audit import hashing
from apps.audit.models import GENESIS_HASH, AuditEvent


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def audit_chain_verify(*, chunk_size: int = 5000) -> ChainReport:
    """Walk the whole chain in id order; stop at the first row whose hash or link does not match."""
    fields = (*hashing.HASHED_FIELDS, "id", "row_hash")
    expected_prev = GENESIS_HASH
    checked = 0
    for row in AuditEvent.objects.order_by("id").values(*fields).iterator(chunk_size=chunk_size):
        if row["prev_hash"] != expected_prev:
            return ChainReport(checked, row["id"], "its prev_hash does not match the previous row's hash")
        if hashing.row_hash(row) != row["row_hash"]:
            return ChainReport(checked, row["id"], "its content does not match its hash")
        expected_prev = row["row_hash"]
        checked += 1
    return ChainReport(checked)


def audit_events_for(target: models.Model) -> models.QuerySet[AuditEvent]:
    meta = target._meta
    from apps.audit.services import target_key

    return AuditEvent.objects.filter(target_type=f"{meta.app_label}.{meta.model_name}", target_id=target_key(target))
