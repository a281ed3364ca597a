"""Idempotent writes: one effect per (API client, ``Idempotency-Key``), whatever the retries and races.

The record is inserted first, in the same transaction as the write (``INSERT ... ON CONFLICT DO NOTHING``):
a concurrent request with the same key blocks on that insert until the first one commits, then finds the record
and replays its stored status and body. A different payload under a used key is 409 ``idempotency_conflict``.
A refusal (4xx) is stored too: the write runs in a savepoint that is rolled back, the record is kept, so a
replay gets the same refusal. A write that raises every refusal before its first write (the postings) passes
``savepoint=False`` and saves the savepoint's two round trips. An unexpected error (500) rolls everything back
and the key can be retried.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from apps.api.exceptions import error_body
from apps.core.errors import ApplicationError, ValidationFailed
from apps.wallet.errors import IdempotencyConflict, IdempotencyKeyRequired


def request_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    if not key or not key.strip():
        raise IdempotencyKeyRequired(
            "Every write needs an Idempotency-Key header.",
            fields={"Idempotency-Key": ["Required: a unique value per operation, e.g. a UUID."]},
        )
    key = key.strip()
    if len(key) > 128:
        raise ValidationFailed(
            "The Idempotency-Key is too long.", fields={"Idempotency-Key": ["At most 128 characters."]}
        )
    if not key.isprintable():  # NUL and other control characters: the database cannot store or index them
        raise ValidationFailed(
            "The Idempotency-Key has control characters.",
            fields={"Idempotency-Key": ["Printable characters only."]},
        )
    return key


def run_idempotent(
    *,
    client: str,
    key: str,
    payload: Any,
    write: Callable[[], tuple[int, dict[str, Any]]],
    savepoint: bool = True,
) -> tuple[int, dict[str, Any], bool]:
    """Run ``write`` once for this key; returns (status, body, replayed)."""
    digest = request_hash(payload)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO wallet_idempotencyrecord (api_client, key, request_hash, status, body, created_at) "
                "VALUES (%s, %s, %s, 0, '{}', now()) ON CONFLICT (api_client, key) DO NOTHING RETURNING id",
                [client, key, digest],
            )
            inserted = cursor.fetchone()
            if inserted is None:
                cursor.execute(
                    "SELECT request_hash, status, body FROM wallet_idempotencyrecord "
                    "WHERE api_client = %s AND key = %s",
                    [client, key],
                )
                stored_hash, status, body = cursor.fetchone()
                if stored_hash != digest:
                    raise IdempotencyConflict("This Idempotency-Key was used with another payload.")
                return status, body if isinstance(body, dict) else json.loads(body), True
        try:
            with transaction.atomic() if savepoint else nullcontext():
                status, body = write()
        except ApplicationError as exc:
            status, body = exc.status, error_body(exc.code, exc.message, exc.fields)
        body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE wallet_idempotencyrecord SET status = %s, body = %s WHERE id = %s",
                [status, json.dumps(body), inserted[0]],
            )
    return status, body, False
