"""Canonical content of an audit row, and its hash. Changing this breaks every existing chain: don't."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

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


def row_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()
