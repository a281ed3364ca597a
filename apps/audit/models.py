"""The audit trail: append-only in the database, hash-chained with a keyed hash, and checkpointed outside it.

* A pgtrigger ``Protect`` trigger rejects every UPDATE and DELETE of a row. pgtrigger lets any session skip its
  triggers (``SET pgtrigger.ignore``), so what really stops the application is that its database role has no
  UPDATE, DELETE, TRUNCATE or trigger rights on this table (``apps/core/dbroles.py``).
* A plain ``BEFORE TRUNCATE`` trigger (migration 0002, not pgtrigger, so that switch does not apply) refuses
  TRUNCATE to every role but the table's owner, superusers included. Why the owner may: it can drop any trigger
  on its own table anyway, so refusing it would protect nothing, and pytest-django's flush between
  transactional tests runs as the owner. The application never is the owner, and an emptied trail is caught
  by the checkpoints below.
* Each row stores ``row_hash``: HMAC-SHA256 (``AUDIT_HMAC_KEY``, kept out of the database) of its canonical
  content, which includes the previous row's hash (``prev_hash``); rows from before keyed hashing keep plain
  SHA-256 (``hash_version`` 1, see ``hashing.py``). Altering, removing or reordering a row breaks the chain at
  that row, and without the key nobody can re-hash the rest; ``manage.py audit_verify`` finds the first such row.
* A signed checkpoint of the chain's head (count, last id, hash) is written outside the database each night
  (``checkpoints.py``), so a truncated trail or a removed newest row, which leave no broken link, are found too.
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

from apps.audit import hashing
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
    hash_version = models.PositiveSmallIntegerField(
        default=hashing.CURRENT, help_text="1: SHA-256 (rows from before keyed hashing); 2: HMAC-SHA256"
    )

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
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hash_version__in=hashing.VERSIONS), name="audit_hash_version_known"
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="audit_event_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_name}"
