"""The audit trail: append-only in the database, hash-chained with a keyed hash, and checkpointed outside it.

Writing and chaining are two steps, so that no writer waits for another (issue 11):

* ``audit_log`` INSERTs the event *unsealed*: its content, ``hash_version`` 3, a unique ``nonce`` and
  ``content_mac``, an HMAC (``AUDIT_HMAC_KEY``, kept out of the database) of the content, its time and the nonce.
  No lock, no head lookup: one INSERT, in the caller's transaction, which it commits or rolls back with the
  change.
* One sealer (``services.audit_seal``: a beat task every few seconds and ``manage.py audit_seal``; two never run
  at once) takes the unsealed rows it can see committed (``WHERE seq IS NULL``, not "ids above a cursor", so a
  row whose transaction commits late is sealed by a later run, at a later position: never skipped), gives each
  the next chain position ``seq``, its predecessor's hash ``prev_hash`` and ``row_hash`` (an HMAC of position, id,
  predecessor and content MAC), through ``audit_event_seal()``, a function owned by the owner role.
* The database keeps every row append-only from its first write (migration 0003, plain triggers with no
  session switch to skip them): a new row must come unsealed (scheme 3, with its content MAC) unless the owner
  writes it; an UPDATE is allowed exactly once per row, only by the owner (so only inside
  ``audit_event_seal()``), only setting ``seq``, ``prev_hash`` and ``row_hash`` together from NULL and changing no
  other column; every other UPDATE and every DELETE is refused, to every role. The application's role has no
  UPDATE or DELETE privilege on the table at all (``apps/core/dbroles.py``); it may only call the function,
  which also checks that the batch links onto the sealed head it found, position after position.
* A plain ``BEFORE TRUNCATE`` trigger (migration 0002) refuses TRUNCATE to every role but the table's owner,
  superusers included. Why the owner may: it can drop any trigger on its own table anyway, so refusing it
  would protect nothing, and pytest-django's flush between transactional tests runs as the owner. The
  application never is the owner, and an emptied trail is caught by the checkpoints below.
* Rows from before (``hash_version`` 1, plain SHA-256, and 2, HMAC-SHA256) were hashed at write time under a
  global lock, chained in id order; migration 0003 gave them their positions in that order, so the whole trail
  is one chain in ``seq`` order and they verify as they always did (``hashing.py``).
* Altering, removing or reordering a sealed row breaks the chain at that row, and without the key nobody can
  re-hash the rest; ``manage.py audit_verify`` finds the first such row, checks every unsealed row's content
  MAC too, and reports how many rows wait for the sealer and for how long.
* A signed checkpoint of the sealed head (count, last id, hash) is written outside the database each night
  (``checkpoints.py``), so a truncated trail or a removed newest row, which leave no broken link, are found too.
* The target is stored as plain text (``app_label.model`` and primary key), not as a foreign key: the trail
  must outlive renames and deletions of what it describes, and a cascade could never touch it anyway.
"""

from __future__ import annotations

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
    hash_version = models.PositiveSmallIntegerField(
        default=hashing.CURRENT,
        help_text="1: SHA-256 (rows from before keyed hashing); 2: HMAC-SHA256 (before sealing); "
        "3: content MAC at write, sealed into the chain later",
    )
    nonce = models.UUIDField(
        null=True, blank=True, help_text="Scheme 3: unique per row (time-ordered), covered by the content MAC"
    )
    content_mac = models.CharField(
        max_length=64, null=True, blank=True, help_text="Scheme 3: HMAC of the content, time and nonce"
    )
    # The seal: NULL until the sealer chains the row (all three at once, once).
    seq = models.BigIntegerField(null=True, blank=True, help_text="Position in the chain (1, 2, ...)")
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    row_hash = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        db_table = "audit_event"
        ordering = ("-id",)
        verbose_name = "audit event"
        verbose_name_plural = "audit events"
        indexes = [
            models.Index(fields=["action", "-id"], name="audit_action_idx"),
            models.Index(fields=["actor_type", "actor_id", "-id"], name="audit_actor_idx"),
            models.Index(fields=["target_type", "target_id", "-id"], name="audit_target_idx"),
            # a target's events of one action: the player page's count of views and the newest one (0005)
            models.Index(fields=["target_type", "target_id", "action", "-id"], name="audit_target_action_idx"),
            BrinIndex(fields=["occurred_at"], name="audit_occurred_brin"),
            # what the sealer reads: the unsealed rows only, however long the trail
            models.Index(fields=["id"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hash_version__in=hashing.VERSIONS), name="audit_hash_version_known"
            ),
            models.CheckConstraint(
                condition=models.Q(seq__isnull=True, prev_hash__isnull=True, row_hash__isnull=True)
                | models.Q(seq__isnull=False, prev_hash__isnull=False, row_hash__isnull=False),
                name="audit_sealed_all_or_nothing",
            ),
            models.CheckConstraint(
                condition=models.Q(hash_version__lt=hashing.SEALED_HMAC_SHA256) | models.Q(content_mac__isnull=False),
                name="audit_v3_has_content_mac",
            ),
            models.CheckConstraint(
                condition=models.Q(hash_version__lt=hashing.SEALED_HMAC_SHA256) | models.Q(nonce__isnull=False),
                name="audit_v3_has_nonce",
            ),
            models.CheckConstraint(condition=models.Q(seq__gt=0), name="audit_seq_positive"),
            # Unique over the sealed rows only: a writer's INSERT adds nothing to these two indexes (the seal
            # does). The unique position is also what makes two sealers unable to fork the chain.
            models.UniqueConstraint(fields=["seq"], condition=models.Q(seq__isnull=False), name="audit_seq_unique"),
            models.UniqueConstraint(
                fields=["row_hash"], condition=models.Q(row_hash__isnull=False), name="audit_row_hash_unique"
            ),
            # a copy of a row (content, nonce and MAC) is refused: the MAC cannot be replayed as another event
            models.UniqueConstraint(
                fields=["nonce"], condition=models.Q(nonce__isnull=False), name="audit_nonce_unique"
            ),
        ]
        # The append-only triggers and the seal function are plain SQL in migration 0003 (not pgtrigger: its
        # skip switch would apply to them).

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_name}"

    @property
    def sealed(self) -> bool:
        return self.seq is not None
