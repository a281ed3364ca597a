"""Events to the platform: an outbox written with the change, delivered as signed JSON webhooks.

``outbox_emit`` (inside the caller's transaction) stores the event and one delivery per subscriber; after
commit it nudges the ``outbox_deliver`` task (best effort: if Redis is down, the beat sweep every minute and
``manage.py outbox_deliver`` still find the rows). Nothing is lost while Redis or the receiver is down.

Delivery: ``POST`` of ``{"id", "type", "occurred_at", "player", "data"}`` to the subscriber's URL with
``X-Pitboss-Event-Id``, ``X-Pitboss-Timestamp`` and ``X-Pitboss-Signature: sha256=<hex>``, the HMAC-SHA256 of
``"<timestamp>.<body>"`` under the subscriber's webhook secret. 2xx is delivered; anything else is retried
after OUTBOX_BACKOFF_SECONDS x 2^(attempts-1) (at most an hour), and dead after OUTBOX_MAX_ATTEMPTS.
Per-player order: a delivery waits while an earlier one for the same subscriber and player is pending (a dead
one no longer holds the line; staff redeliver it from the admin, and receivers order by ``id``).

No transaction is open during the POST: a sender claims a delivery (a lease of OUTBOX_LEASE_SECONDS, committed),
POSTs outside any transaction, then records the result in a new short transaction. A sender killed mid-delivery
leaves a lease that runs out, and the delivery is sent again: delivery is at least once, and receivers
deduplicate on ``X-Pitboss-Event-Id`` (the event's ``id``). The lease outlasts the POST's timeout, so a later event
for the same player is never sent while an earlier one may still be in flight.

Subscribers are supplied by the API app (``set_subscribers``): core knows nothing of API clients.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from apps.core.models import DeliveryStatus, OutboxDelivery, OutboxEvent

log = logging.getLogger(__name__)
# prefix -> (url, secret); given an event's key (a player's external id), only the subscribers that may see it
Subscribers = Callable[[str | None], dict[str, tuple[str, str]]]
# the same for many keys at once: key -> the prefixes that may see it
SubscribersMany = Callable[[list[str]], dict[str, set[str]]]
_subscribers: list[Subscribers] = []
_subscribers_many: list[SubscribersMany] = []


def set_subscribers(provider: Subscribers, many: SubscribersMany | None = None) -> None:
    _subscribers[:] = [provider]
    _subscribers_many[:] = [many] if many is not None else []


def subscribers(key: str | None = None) -> dict[str, tuple[str, str]]:
    return _subscribers[0](key) if _subscribers else {}


def subscribers_for(keys: list[str]) -> dict[str, set[str]]:
    """Per key, the prefixes of the subscribers that may see it (one query with a ``many`` provider)."""
    if _subscribers_many:
        return _subscribers_many[0](keys)
    return {key: set(subscribers(key)) for key in keys}


OUTBOX_TASK = "apps.core.tasks.outbox_deliver"


def outbox_emit(type: str, *, key: str, data: dict[str, Any]) -> OutboxEvent:
    """Record an event for every subscriber that may see ``key`` (an API client sees its brands' players only),
    in the caller's transaction."""
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    event = OutboxEvent.objects.create(type=type, key=key, data=payload)
    OutboxDelivery.objects.bulk_create(
        OutboxDelivery(event=event, subscriber=prefix, key=key) for prefix in sorted(subscribers(key))
    )
    _nudge_once()
    return event


def outbox_emit_many(type: str, items: list[tuple[str, dict[str, Any]]]) -> int:
    """``outbox_emit`` for many events of one type ((key, data) each: a campaign's chunk of awards), with one
    subscriber query and two INSERTs for all of them. Returns how many events."""
    if not items:
        return 0
    seen = subscribers_for(sorted({key for key, _ in items}))
    events = OutboxEvent.objects.bulk_create(
        OutboxEvent(type=type, key=key, data=json.loads(json.dumps(data, cls=DjangoJSONEncoder))) for key, data in items
    )
    OutboxDelivery.objects.bulk_create(
        OutboxDelivery(event=event, subscriber=prefix, key=event.key)
        for event in events
        for prefix in sorted(seen.get(event.key, ()))
    )
    _nudge_once()
    return len(events)


def _nudge_once() -> None:
    """One nudge per transaction however many events it records (each used to ask for its own: 500 connections
    to the broker at a campaign chunk's commit). A callback already waiting for this transaction's commit is
    enough; one registered in a savepoint that rolled back is gone from the list, so the next event asks again."""
    if connection.in_atomic_block and any(entry[1] is _nudge for entry in connection.run_on_commit):
        return
    transaction.on_commit(_nudge, robust=True)


def _nudge() -> str | None:
    """Ask a worker to deliver now (after the commit). Best effort and fail-fast: one connection attempt, no
    retries, so a Redis outage costs the request milliseconds, not kombu's default ~6 s of reconnecting; the
    beat's sweep delivers whatever a failed nudge left behind. Returns the task id when sent."""
    task_id = send_fail_fast(OUTBOX_TASK)
    if task_id is None:
        log.warning("outbox: could not enqueue delivery; the sweep will deliver")
    return task_id


def send_fail_fast(name: str, **options: Any) -> str | None:
    """Send task ``name`` with one connection attempt and no retries; the task id, or None when the broker is
    unreachable. For nudges from a request whose work a beat sweep does anyway: kombu's default reconnecting
    (3 attempts 2 s apart) would hold the request, and with it a web worker, ~6 s per call during an outage."""
    from backoffice.celery import app

    try:
        with app.connection_for_write(transport_options={"max_retries": 0}) as connection:
            return str(app.send_task(name, connection=connection, retry=False, **options).id)
    except Exception:
        return None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


# Claim the next due delivery: pending, due, no live lease, and no earlier pending delivery for the same subscriber
# and player (an earlier one being sent right now is still pending, so the next waits for its result: in order).
# SKIP LOCKED: two senders claiming at once take different players' deliveries.
_CLAIM = """
    UPDATE core_outboxdelivery SET claimed_until = %(until)s, claimed_by = %(token)s, attempts = attempts + 1
    WHERE id = (
        SELECT d.id FROM core_outboxdelivery d
        WHERE d.status = 'pending' AND d.next_attempt_at <= %(now)s
          AND (d.claimed_until IS NULL OR d.claimed_until < %(now)s)
          AND NOT EXISTS (
              SELECT 1 FROM core_outboxdelivery earlier
              WHERE earlier.status = 'pending' AND earlier.subscriber = d.subscriber AND earlier.key = d.key
                AND earlier.id < d.id
          )
        ORDER BY d.id LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id
"""


def _token() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_next() -> tuple[OutboxDelivery, str] | None:
    """Lease the next due delivery for OUTBOX_LEASE_SECONDS and commit: (the delivery, the lease's token)."""
    now, token = timezone.now(), _token()
    until = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM, {"until": until, "token": token, "now": now})
        row = cursor.fetchone()
    if row is None:
        return None
    return OutboxDelivery.objects.select_related("event").get(pk=row[0]), token


def deliver_one() -> OutboxDelivery | None:
    """Deliver the next due delivery: claim it (committed), POST it outside any transaction, record the result.

    At least once: a sender that dies after the receiver got the event, before it recorded the result, leaves a
    lease that runs out; the delivery is then claimed and sent again, with the same ``X-Pitboss-Event-Id``.
    Call it outside a transaction (the task, the command): inside one, the claim and the POST share it."""
    claimed = claim_next()
    if claimed is None:
        return None
    delivery, token = claimed
    if delivery.attempts > settings.OUTBOX_MAX_ATTEMPTS:  # its senders kept dying mid-delivery
        status, error = None, "no result recorded within the lease, attempts exhausted"
    else:
        status, error = _post(delivery)
    return _record(delivery, token, status, error)


def _post(delivery: OutboxDelivery) -> tuple[int | None, str]:
    """POST the event (no database access here): the HTTP status, or None and why it failed."""
    event = delivery.event
    endpoint = subscribers().get(delivery.subscriber)
    if endpoint is None:
        return None, "the subscriber has no webhook URL any more"
    body = json.dumps(
        {
            "id": event.pk,
            "type": event.type,
            "occurred_at": event.created_at.isoformat(),
            "player": event.key,
            "data": event.data,
        },
        separators=(",", ":"),
    ).encode()
    url, secret = endpoint
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (a configured https/http URL)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Pitboss-Event-Id": str(event.pk),
            "X-Pitboss-Event": event.type,
            "X-Pitboss-Timestamp": timestamp,
            "X-Pitboss-Signature": sign(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.OUTBOX_TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]


@transaction.atomic
def _record(delivery: OutboxDelivery, token: str, status: int | None, error: str) -> OutboxDelivery:
    """Record a try's result, unless the lease was lost meanwhile (another sender claimed it: its result counts)."""
    try:
        current = OutboxDelivery.objects.select_for_update().get(pk=delivery.pk, claimed_by=token)
    except OutboxDelivery.DoesNotExist:
        log.warning("outbox: delivery %s: the lease ran out before the result came; not recorded", delivery.pk)
        return delivery
    now = timezone.now()
    current.last_status, current.last_error = status, error
    current.claimed_until, current.claimed_by = None, ""
    if status is not None and 200 <= status < 300:
        current.status, current.delivered_at, current.last_error = DeliveryStatus.DELIVERED, now, ""
    elif current.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        current.status = DeliveryStatus.DEAD
        log.error("outbox: delivery %s of event %s is dead: %s", current.pk, current.event_id, error)
    else:
        wait = min(3600.0, settings.OUTBOX_BACKOFF_SECONDS * 2 ** (current.attempts - 1))
        current.next_attempt_at = now + timedelta(seconds=wait)
    current.save(
        update_fields=[
            "status",
            "next_attempt_at",
            "last_status",
            "last_error",
            "delivered_at",
            "claimed_until",
            "claimed_by",
        ]
    )
    return current


def deliver_due(limit: int = 500, budget_seconds: float | None = None) -> int:
    """Deliver what is due, one by one, until nothing is, ``limit`` tries were made or ``budget_seconds`` passed
    (the task's slice: the beat's next sweep goes on); returns the tries."""
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    tries = 0
    while tries < limit and (deadline is None or time.monotonic() < deadline) and deliver_one() is not None:
        tries += 1
    return tries


@transaction.atomic
def outbox_redeliver(*, actor: Any, delivery: OutboxDelivery) -> OutboxDelivery:
    """Staff: try a dead (or stuck) delivery again from the start."""
    from apps.audit.services import audit_log

    delivery = OutboxDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, timezone.now()
    delivery.claimed_until, delivery.claimed_by = None, ""  # a stuck lease: the next sweep sends it again
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_until", "claimed_by"])
    audit_log(actor=actor, action="outbox.redelivered", target=delivery, data={"event": delivery.event_id})
    transaction.on_commit(_nudge, robust=True)
    return delivery
