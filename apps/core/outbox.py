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

Subscribers are supplied by the API app (``set_subscribers``): core knows nothing of API clients.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from apps.core.models import DeliveryStatus, OutboxDelivery, OutboxEvent

log = logging.getLogger(__name__)
# prefix -> (url, secret); given an event's key (a player's external id), only the subscribers that may see it
Subscribers = Callable[[str | None], dict[str, tuple[str, str]]]
_subscribers: list[Subscribers] = []


def set_subscribers(provider: Subscribers) -> None:
    _subscribers[:] = [provider]


def subscribers(key: str | None = None) -> dict[str, tuple[str, str]]:
    return _subscribers[0](key) if _subscribers else {}


OUTBOX_TASK = "apps.core.tasks.outbox_deliver"


def outbox_emit(type: str, *, key: str, data: dict[str, Any]) -> OutboxEvent:
    """Record an event for every subscriber that may see ``key`` (an API client sees its brands' players only),
    in the caller's transaction."""
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    event = OutboxEvent.objects.create(type=type, key=key, data=payload)
    OutboxDelivery.objects.bulk_create(
        OutboxDelivery(event=event, subscriber=prefix, key=key) for prefix in sorted(subscribers(key))
    )
    transaction.on_commit(_nudge, robust=True)
    return event


def _nudge() -> str | None:
    """Ask a worker to deliver now (after the commit). Best effort and fail-fast: one connection attempt, no
    retries, so a Redis outage costs the request milliseconds, not kombu's default ~6 s of reconnecting; the
    beat's sweep delivers whatever a failed nudge left behind. Returns the task id when sent."""
    from backoffice.celery import app

    try:
        with app.connection_for_write(transport_options={"max_retries": 0}) as connection:
            return str(app.send_task(OUTBOX_TASK, connection=connection, retry=False).id)
    except Exception:
        log.warning("outbox: could not enqueue delivery; the sweep will deliver")
        return None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


_NEXT_DUE = """
    SELECT d.id FROM core_outboxdelivery d
    WHERE d.status = 'pending' AND d.next_attempt_at <= %s
      AND NOT EXISTS (
          SELECT 1 FROM core_outboxdelivery earlier
          WHERE earlier.status = 'pending' AND earlier.subscriber = d.subscriber AND earlier.key = d.key
            AND earlier.id < d.id
      )
    ORDER BY d.id LIMIT 1
    FOR UPDATE SKIP LOCKED
"""


def deliver_one() -> OutboxDelivery | None:
    """Deliver the next due delivery (its row locked, so workers never send one twice at once)."""
    with transaction.atomic():
        delivery = OutboxDelivery.objects.raw(_NEXT_DUE, [timezone.now()])
        found = next(iter(delivery), None)
        if found is None:
            return None
        found = OutboxDelivery.objects.select_related("event").get(pk=found.pk)
        _attempt(found)
        return found


def _attempt(delivery: OutboxDelivery) -> None:
    event = delivery.event
    endpoint = subscribers().get(delivery.subscriber)
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
    now = timezone.now()
    delivery.attempts += 1
    status, error = None, ""
    if endpoint is None:
        error = "the subscriber has no webhook URL any more"
    else:
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
                status = response.status
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
        except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
    delivery.last_status, delivery.last_error = status, error
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.DELIVERED, now, ""
    elif delivery.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.DEAD
        log.error("outbox: delivery %s of event %s is dead: %s", delivery.pk, event.pk, error)
    else:
        wait = min(3600.0, settings.OUTBOX_BACKOFF_SECONDS * 2 ** (delivery.attempts - 1))
        delivery.next_attempt_at = now + timedelta(seconds=wait)
    delivery.save(update_fields=["attempts", "status", "next_attempt_at", "last_status", "last_error", "delivered_at"])


def deliver_due(limit: int = 500) -> int:
    """Deliver what is due, one by one, until nothing is or ``limit`` tries were made; returns the tries."""
    tries = 0
    while tries < limit and deliver_one() is not None:
        tries += 1
    return tries


@transaction.atomic
def outbox_redeliver(*, actor: Any, delivery: OutboxDelivery) -> OutboxDelivery:
    """Staff: try a dead (or stuck) delivery again from the start."""
    from apps.audit.services import audit_log

    delivery = OutboxDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit_log(actor=actor, action="outbox.redelivered", target=delivery, data={"event": delivery.event_id})
    transaction.on_commit(_nudge, robust=True)
    return delivery
