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
    # A lease, committed before the POST (apps/core/outbox.py): nobody else sends it until claimed_until passes.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True, help_text="host:pid:token of the sender holding it")

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


class JobStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Job(models.Model):
    """A long job cut into short slices (apps/core/jobs.py): where the next slice starts, and what it found so far.

    Each slice commits its cursor and result with ``heartbeat_at``; a running job whose heartbeat is older than
    JOB_STALL_SECONDS lost its worker, and the beat sweep sends its next slice again.
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=60, help_text="The registered job kind, e.g. wallet.ledger_reconcile")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.RUNNING)
    params = models.JSONField(default=dict, blank=True)
    cursor = models.JSONField(default=dict, blank=True, help_text="Where the next slice starts")
    result = models.JSONField(default=dict, blank=True, help_text="What the slices so far found")
    slices = models.PositiveIntegerField(default=0)
    redispatches = models.PositiveSmallIntegerField(default=0, help_text="Slices re-sent after a worker was lost")
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["heartbeat_at"], name="core_job_running_idx", condition=models.Q(status="running")),
            models.Index(fields=["kind", "-id"], name="core_job_kind_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(status="running"), name="core_job_one_running_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
