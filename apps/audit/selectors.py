from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone

from apps.audit import checkpoints, hashing
from apps.audit.models import GENESIS_HASH, AuditEvent


@dataclass(frozen=True)
class SealLag:
    """Events written but not chained yet: how many, and since when the oldest (None: nothing waits)."""

    unsealed: int
    oldest_at: datetime | None

    def seconds(self, now: datetime | None = None) -> float:
        if self.oldest_at is None:
            return 0.0
        return max(0.0, ((now or timezone.now()) - self.oldest_at).total_seconds())


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None = None  # the first row that does not verify (None: no row to name, or intact)
    problem: str = ""
    head_id: int | None = None  # the newest row verified, and its hash: what a checkpoint records
    head_hash: str = GENESIS_HASH
    checkpoints_matched: int = 0
    lag: SealLag = SealLag(0, None)  # what the sealer has not chained yet (content MACs checked all the same)

    @property
    def ok(self) -> bool:
        return not self.problem


def audit_seal_lag(*, using: str = DEFAULT_DB_ALIAS) -> SealLag:
    """One indexed query (the partial index of unsealed rows): for /metrics, /readyz and the benchmark."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT count(*), min(occurred_at) FROM audit_event WHERE seq IS NULL")
        count, oldest = cursor.fetchone()
    return SealLag(int(count), oldest)


SEALED_FIELDS = (*hashing.HASHED_FIELDS, "id", "seq", "row_hash", "hash_version", "nonce", "content_mac")
UNSEALED_FIELDS = ("id", *hashing.CONTENT_FIELDS, "content_mac")


def _sealed_problem(row: dict[str, Any], expected_prev: str, version_before: int, position: int) -> str:
    version = row["hash_version"]
    if version not in hashing.VERSIONS:
        return f"its hash scheme {version} is unknown"
    if version < version_before:
        return "it is hashed without the key after keyed rows (re-hashed by someone without it)"
    if row["prev_hash"] != expected_prev:
        return "its prev_hash does not match the previous row's hash"
    if row["seq"] != position:
        return f"its chain position {row['seq']} should be {position} (a row was removed or moved)"
    if version == hashing.SEALED_HMAC_SHA256:
        if not hmac.compare_digest(hashing.content_mac(row), row["content_mac"] or ""):
            return "its content does not match its hash"
        if not hmac.compare_digest(hashing.row_hash(row, version), row["row_hash"]):
            return "its position or link does not match its hash"
    elif not hmac.compare_digest(hashing.row_hash(row, version), row["row_hash"]):
        return "its content does not match its hash"
    return ""


def audit_chain_verify(*, chunk_size: int = 5000, with_checkpoints: bool = True) -> ChainReport:
    """Walk the sealed chain in position (``seq``) order; stop at the first row whose hash, scheme, link or
    position does not match, or that contradicts a signed checkpoint; after the walk, every checkpoint must have
    been met (``checkpoints.py``). Then check the content MAC of every row not sealed yet, and report them as
    the lag. Rows of schemes 1 and 2 (chained in id order before sealing) have positions in that order.
    """
    loaded = checkpoints.load() if with_checkpoints else checkpoints.Loaded([], [])
    if loaded.problems:
        return ChainReport(0, None, loaded.problems[0])
    # A checkpoint names the row at position ``count`` (positions are 1, 2, ... without gaps); one of an empty
    # chain proves nothing.
    pending = sorted((c for c in loaded.checkpoints if c.last_id is not None), key=lambda c: c.count)
    expected_prev, version_before = GENESIS_HASH, hashing.LEGACY_SHA256
    checked, matched, head_id = 0, 0, None

    def report(row_id: int | None, problem: str) -> ChainReport:
        return ChainReport(checked, row_id, problem, head_id, expected_prev, matched)

    sealed = AuditEvent.objects.filter(seq__isnull=False).order_by("seq").values(*SEALED_FIELDS)
    for row in sealed.iterator(chunk_size=chunk_size):
        problem = _sealed_problem(row, expected_prev, version_before, checked + 1)
        if problem:
            return report(row["id"], problem)
        checked += 1
        head_id, expected_prev, version_before = row["id"], row["row_hash"], row["hash_version"]
        while pending and pending[0].count == checked:
            checkpoint = pending.pop(0)
            if checkpoint.last_id != row["id"]:
                return report(
                    row["id"],
                    f"{checkpoint.describe()} names a row that is no longer in the trail "
                    f"(position {checked} is #{row['id']} now)",
                )
            if checkpoint.head_hash != row["row_hash"]:
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
    unsealed, oldest = 0, None
    waiting = AuditEvent.objects.filter(seq__isnull=True).order_by("id").values(*UNSEALED_FIELDS)
    for row in waiting.iterator(chunk_size=chunk_size):
        if row["hash_version"] != hashing.SEALED_HMAC_SHA256:
            return report(row["id"], f"it is not sealed but of hash scheme {row['hash_version']}")
        if not hmac.compare_digest(hashing.content_mac(row), row["content_mac"] or ""):
            return report(row["id"], "its content does not match its hash (it is not sealed yet)")
        unsealed += 1
        oldest = row["occurred_at"] if oldest is None else min(oldest, row["occurred_at"])
    return ChainReport(checked, None, "", head_id, expected_prev, matched, SealLag(unsealed, oldest))


def audit_events_for(target: models.Model) -> models.QuerySet[AuditEvent]:
    meta = target._meta
    from apps.audit.services import target_key

    return AuditEvent.objects.filter(target_type=f"{meta.app_label}.{meta.model_name}", target_id=target_key(target))
