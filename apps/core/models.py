"""The outbox: events for the platform, written in the same transaction as the change they describe.

``OutboxEvent`` rows are the facts (append-only); ``OutboxDelivery`` rows track one event to one subscriber
(a platform API client with a webhook URL): pending until delivered, or dead after OUTBOX_MAX_ATTEMPTS.
"""

from __future__ import annotations

import pgtrigger
from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    type = models.CharField(max_length=40)
    key = models.CharField(max_length=64, help_text="Ordering key: deliveries with one key go in order (the player)")
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["key", "id"], name="core_outbox_event_key_idx")]
        triggers = [
            pgtrigger.Protect(name="core_outbox_event_immutable", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type} {self.key}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead (gave up; redeliver from the admin)"


class OutboxDelivery(models.Model):
    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="deliveries")
    subscriber = models.CharField(max_length=16, help_text="The API client's prefix")
    key = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status of the last try")
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "outbox deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"], name="core_delivery_due_idx", condition=models.Q(status="pending")
            ),
            models.Index(
                fields=["subscriber", "key", "id"], name="core_delivery_order_idx", condition=models.Q(status="pending")
            ),
            models.Index(fields=["status", "-id"], name="core_delivery_status_idx"),
        ]
        triggers = [pgtrigger.Protect(name="core_delivery_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"event {self.event_id} -> {self.subscriber} ({self.status})"
