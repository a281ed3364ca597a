from __future__ import annotations

import hmac
from dataclasses import dataclass

from django.db import models

from apps.audit import checkpoints, hashing
from apps.audit.models import GENESIS_HASH, AuditEvent


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None = None  # the first row that does not verify (None: no row to name, or intact)
    problem: str = ""
    head_id: int | None = None  # the newest row verified, and its hash: what a checkpoint records
    head_hash: str = GENESIS_HASH
    checkpoints_matched: int = 0

    @property
    def ok(self) -> bool:
        return not self.problem


def audit_chain_verify(*, chunk_size: int = 5000, with_checkpoints: bool = True) -> ChainReport:
    """Walk the whole chain in id order; stop at the first row whose hash, scheme or link does not match, or
    that contradicts a signed checkpoint; after the walk, every checkpoint must have been met (``checkpoints.py``).
    """
    loaded = checkpoints.load() if with_checkpoints else checkpoints.Loaded([], [])
    if loaded.problems:
        return ChainReport(0, None, loaded.problems[0])
    pending = [c for c in loaded.checkpoints if c.last_id is not None]  # one of an empty chain proves nothing
    fields = (*hashing.HASHED_FIELDS, "id", "row_hash", "hash_version")
    expected_prev, version_before = GENESIS_HASH, hashing.LEGACY_SHA256
    checked, matched, head_id = 0, 0, None

    def report(row_id: int | None, problem: str) -> ChainReport:
        return ChainReport(checked, row_id, problem, head_id, expected_prev, matched)

    for row in AuditEvent.objects.order_by("id").values(*fields).iterator(chunk_size=chunk_size):
        if pending and pending[0].last_id < row["id"]:  # type: ignore[operator]
            return report(row["id"], f"{pending[0].describe()} names a row that is no longer in the trail")
        version = row["hash_version"]
        if version not in hashing.VERSIONS:
            return report(row["id"], f"its hash scheme {version} is unknown")
        if version < version_before:
            return report(row["id"], "it is hashed without the key after keyed rows (re-hashed by someone without it)")
        if row["prev_hash"] != expected_prev:
            return report(row["id"], "its prev_hash does not match the previous row's hash")
        if not hmac.compare_digest(hashing.row_hash(row, version), row["row_hash"]):
            return report(row["id"], "its content does not match its hash")
        checked += 1
        head_id, expected_prev, version_before = row["id"], row["row_hash"], version
        while pending and pending[0].last_id == row["id"]:
            checkpoint = pending.pop(0)
            if checkpoint.head_hash != row["row_hash"] or checkpoint.count != checked:
                return report(
                    row["id"],
                    f"it differs from {checkpoint.describe()}: the chain up to it was rewritten ({checked} events now)",
                )
            matched += 1
    if pending:
        latest = pending[-1]
        if checked == 0:
            return report(None, f"the trail is empty but {latest.describe()}: it was emptied (truncated)")
        return report(
            None,
            f"the trail ends at #{head_id} after {checked} events but {latest.describe()}: "
            "its newest events were removed",
        )
    return ChainReport(checked, None, "", head_id, expected_prev, matched)


def audit_events_for(target: models.Model) -> models.QuerySet[AuditEvent]:
    meta = target._meta
    from apps.audit.services import target_key

    return AuditEvent.objects.filter(target_type=f"{meta.app_label}.{meta.model_name}", target_id=target_key(target))
