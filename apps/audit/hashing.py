"""Canonical content of an audit row, and its hash. Changing an existing scheme breaks every chain: add one.

Two schemes, recorded per row in ``hash_version``:

* ``1`` (``LEGACY_SHA256``): plain SHA-256 of the canonical content. Rows written before keyed hashing keep it
  and still verify with it; nothing re-writes history.
* ``2`` (``HMAC_SHA256``): HMAC-SHA256 with ``settings.AUDIT_HMAC_KEY`` (never stored in the database), so
  whoever can write the table but does not hold the key cannot re-hash an altered row. Every new row uses it.

Along the chain the version never goes down: a scheme-1 row after a scheme-2 row is how a re-hash without the
key would have to look, and ``audit_chain_verify`` reports it. A downgrade of the *whole* chain to scheme 1 is
caught by the signed checkpoints (``checkpoints.py``), whose head hash no unkeyed chain can reproduce.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

LEGACY_SHA256 = 1
HMAC_SHA256 = 2
CURRENT = HMAC_SHA256
VERSIONS = (LEGACY_SHA256, HMAC_SHA256)

# Domain separation: a row's MAC can never be replayed as a checkpoint's signature, or the other way round.
ROW_CONTEXT = b"pitboss.audit.row.v2\n"
CHECKPOINT_CONTEXT = b"pitboss.audit.checkpoint.v1\n"

HASHED_FIELDS = (
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
    "prev_hash",
)


def normalise_data(data: Any) -> Any:
    """What JSONB will give back: Decimals, dates and UUIDs become strings, tuples become lists."""
    return json.loads(json.dumps(data if data is not None else {}, cls=DjangoJSONEncoder))


def canonical(row: dict[str, Any]) -> bytes:
    occurred_at: datetime = row["occurred_at"]
    content = {name: row[name] for name in HASHED_FIELDS}
    content["occurred_at"] = occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    content["ip"] = row["ip"] or ""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def audit_key() -> bytes:
    """The key of the row MACs and checkpoint signatures (``AUDIT_HMAC_KEY``, or ``AUDIT_HMAC_KEY_FILE``)."""
    return str(settings.AUDIT_HMAC_KEY).encode("utf-8")


def mac(context: bytes, message: bytes, *, key: bytes | None = None) -> str:
    return hmac.new(key if key is not None else audit_key(), context + message, hashlib.sha256).hexdigest()


def row_hash(row: dict[str, Any], version: int = CURRENT, *, key: bytes | None = None) -> str:
    if version == LEGACY_SHA256:
        return hashlib.sha256(canonical(row)).hexdigest()
    if version == HMAC_SHA256:
        return mac(ROW_CONTEXT, canonical(row), key=key)
    raise ValueError(f"unknown audit hash version {version!r}")
