"""The audit trail: append-only in the database and hash-chained.

* A pgtrigger ``Protect`` trigger rejects every UPDATE and DELETE of a row (TRUNCATE, which is not a row
  operation, still empties the table in tests).
* Each row stores ``row_hash`` = SHA-256 of its canonical content (see ``hashing.py``), which includes the
  previous row's hash (``prev_hash``). Altering, removing or reordering a row behind the trigger's back
  breaks the chain at that row; ``manage.py audit_verify`` finds the first such row.
* Writers take a transaction-level advisory lock before reading the chain's head, so concurrent writers
  append one after another and never fork the chain (see ``services.audit_log``).
* The target is stored as plain text (``app_label.model`` and primary key), not as a foreign key: the trail
  must outlive renames and deletions of what it describes, and a cascade could never touch it anyway.
"""

from __future__ import annotations

import pgtrigger
from django.contrib.postgres.indexes import BrinIndex
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from apps.audit.choices import ActorType

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(default=timezone.now, editable=False)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=100, help_text="Dotted action code, e.g. player.blocked")
    target_type = models.CharField(max_length=100, blank=True, help_text="app_label.model")
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    request_id = models.CharField(max_length=128, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        db_table = "audit_event"
        ordering = ("-id",)
        verbose_name = "audit event"
        verbose_name_plural = "audit events"
        indexes = [
            models.Index(fields=["action", "-id"], name="audit_action_idx"),
            models.Index(fields=["actor_type", "actor_id", "-id"], name="audit_actor_idx"),
            models.Index(fields=["target_type", "target_id", "-id"], name="audit_target_idx"),
            BrinIndex(fields=["occurred_at"], name="audit_occurred_brin"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="audit_event_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_name}"
