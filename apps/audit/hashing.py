"""Canonical content of an audit row, and its hash. Changing an existing scheme breaks every chain: add one.

Three schemes, recorded per row in ``hash_version``:

* ``1`` (``LEGACY_SHA256``): plain SHA-256 of the canonical content. Rows written before keyed hashing keep it
  and still verify with it; nothing re-writes history.
* ``2`` (``HMAC_SHA256``): HMAC-SHA256 with ``settings.AUDIT_HMAC_KEY`` (never stored in the database), so
  whoever can write the table but does not hold the key cannot re-hash an altered row. Rows written while the
  chain was built under one global lock (before issue 11) keep it: chained in id order, the hash inside the row.
* ``3`` (``SEALED_HMAC_SHA256``): every new row. Written in two steps (see ``services.audit_log`` and
  ``services.audit_seal``): the writer stores the content with ``content_mac``, an HMAC of the content, its
  time and the row's ``nonce`` (a time-ordered random UUID the database keeps unique, so a row's content and MAC
  cannot be replayed as another row: the copy is refused), taking no lock, reading no head, in one statement;
  the sealer later gives the row its chain position ``seq`` and ``prev_hash`` and stores ``row_hash``, an HMAC
  of ``(seq, id, prev_hash, content_mac)``. The content MAC proves the content is what the key holder wrote, the
  row MAC proves which row it is and where in the chain it sits.

Along the chain the version never goes down: a scheme-1 row after a scheme-2 row is how a re-hash without the
key would have to look, and ``audit_chain_verify`` reports it. A downgrade of the *whole* chain to scheme 1 is
caught by the signed checkpoints (``checkpoints.py``), whose head hash no unkeyed chain can reproduce.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

LEGACY_SHA256 = 1
HMAC_SHA256 = 2
SEALED_HMAC_SHA256 = 3
CURRENT = SEALED_HMAC_SHA256
VERSIONS = (LEGACY_SHA256, HMAC_SHA256, SEALED_HMAC_SHA256)

# Domain separation: a row's MAC can never be replayed as a checkpoint's signature, or the other way round,
# and scheme 3's content MAC never as its row MAC.
ROW_CONTEXT = b"pitboss.audit.row.v2\n"
CONTENT_CONTEXT_V3 = b"pitboss.audit.content.v3\n"
SEAL_CONTEXT_V3 = b"pitboss.audit.seal.v3\n"
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


# Scheme 3's content: every column the writer sets (the id is the database's, bound by the seal), the chain
# columns not (they come later).
CONTENT_FIELDS = ("nonce", "hash_version", *(name for name in HASHED_FIELDS if name != "prev_hash"))
SEAL_FIELDS = ("seq", "prev_hash", "row_hash")  # the only columns a seal sets (the trigger allows nothing else)


def _json(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_content(row: dict[str, Any]) -> bytes:
    occurred_at: datetime = row["occurred_at"]
    content = {name: row[name] for name in CONTENT_FIELDS}
    content["occurred_at"] = occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    content["ip"] = row["ip"] or ""
    content["nonce"] = str(row["nonce"])
    return _json(content)


def new_nonce() -> uuid.UUID:
    """Time-ordered (microseconds first, like UUIDv7), so the unique index grows at its right edge; 72 random
    bits after it."""
    return uuid.UUID(int=((time.time_ns() // 1000) << 72) | secrets.randbits(72))


def content_mac(row: dict[str, Any], *, key: bytes | None = None) -> str:
    """Scheme 3, written with the row: binds its content to its time and nonce."""
    return mac(CONTENT_CONTEXT_V3, canonical_content(row), key=key)


def seal_mac(*, seq: int, event_id: int, prev_hash: str, content: str, key: bytes | None = None) -> str:
    """Scheme 3, written by the sealer: binds the content's MAC to its chain position and predecessor."""
    message = _json({"seq": seq, "id": event_id, "prev_hash": prev_hash, "content_mac": content})
    return mac(SEAL_CONTEXT_V3, message, key=key)


def row_hash(row: dict[str, Any], version: int = HMAC_SHA256, *, key: bytes | None = None) -> str:
    """The row's hash under its scheme. Scheme 3 needs ``seq``, ``id`` and ``content_mac`` in ``row``."""
    if version == LEGACY_SHA256:
        return hashlib.sha256(canonical(row)).hexdigest()
    if version == HMAC_SHA256:
        return mac(ROW_CONTEXT, canonical(row), key=key)
    if version == SEALED_HMAC_SHA256:
        return seal_mac(
            seq=row["seq"], event_id=row["id"], prev_hash=row["prev_hash"], content=row["content_mac"], key=key
        )
    raise ValueError(f"unknown audit hash version {version!r}")
