"""The double-entry ledger.

* ``Account``: per player and currency ``cash``, ``bonus``, ``pending_withdrawal``, and per currency the operator's
  accounts. Player balances live on their rows, updated in the posting's transaction, never negative (CHECK).
  Operator accounts keep no balance (always 0): their balance is the sum of their entries, so no bet ever locks
  a house row (a hot row would serialise every bet).
* ``LedgerTransaction`` and ``Entry``: immutable (pgtrigger ``Protect`` on UPDATE/DELETE); a deferred constraint
  trigger rejects, at commit, any transaction whose entries do not sum to zero per currency.
* Built to grow to hundreds of millions of entries: bigint ids in time order, per-account history index, BRIN
  on the time column, and no foreign key pointing *into* entries, so the table can be partitioned by month later
  (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import pgtrigger
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.utils import timezone

from apps.core.templatetags.money import format_money
from apps.wallet.choices import (
    OPERATOR_KINDS,
    PLAYER_KINDS,
    AccountKind,
    AdjustmentStatus,
    TransactionType,
    WithdrawalStatus,
)

BALANCED = """
    IF EXISTS (
        SELECT 1 FROM wallet_entry WHERE transaction_id = NEW.transaction_id
        GROUP BY currency HAVING sum(amount) <> 0
    ) THEN
        RAISE EXCEPTION 'ledger transaction % does not balance', NEW.transaction_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
"""


class Account(models.Model):
    player = models.ForeignKey(
        "players.Player", null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    currency = models.CharField(max_length=3)
    balance = models.DecimalField(default=0, max_digits=20, decimal_places=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["player", "currency", "kind"],
                name="wallet_account_player_unique",
                condition=models.Q(player__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["kind", "currency"],
                name="wallet_account_operator_unique",
                condition=models.Q(player__isnull=True),
            ),
            models.CheckConstraint(
                condition=models.Q(player__isnull=False, kind__in=PLAYER_KINDS)
                | models.Q(player__isnull=True, kind__in=OPERATOR_KINDS),
                name="wallet_account_owner_matches_kind",
            ),
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="wallet_account_balance_not_negative"),
        ]

    def __str__(self) -> str:
        owner = f"player {self.player_id}" if self.player_id else "operator"
        return f"{owner} {self.kind} {self.currency}"


class LedgerTransaction(models.Model):
    id = models.BigAutoField(primary_key=True)
    type = models.CharField(max_length=20, choices=TransactionType.choices)
    # indexed by wallet_txn_player_idx (player, -id): a second index on player alone would only slow inserts
    player = models.ForeignKey(
        "players.Player", on_delete=models.PROTECT, related_name="ledger_transactions", db_index=False
    )
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=20, decimal_places=4, help_text="The headline amount (positive)")
    created_at = models.DateTimeField(default=timezone.now)
    api_client = models.CharField(max_length=16, blank=True, help_text="Prefix of the client that posted it")
    reference = models.CharField(max_length=100, blank=True, help_text="The platform's or provider's reference")
    round_id = models.CharField(max_length=100, blank=True)
    game_id = models.CharField(max_length=100, blank=True)
    game_category = models.CharField(max_length=20, blank=True)
    provider = models.CharField(max_length=50, blank=True)
    payment_method = models.CharField(max_length=30, blank=True)
    instrument_fingerprint = models.CharField(max_length=64, blank=True)
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        help_text="For a rollback: the bet it reverses (once only)",
    )
    staff_actor = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "wallet_transaction"
        indexes = [
            models.Index(fields=["player", "-id"], name="wallet_txn_player_idx"),
            models.Index(fields=["player", "round_id"], name="wallet_txn_round_idx", condition=~models.Q(round_id="")),
            BrinIndex(fields=["created_at"], name="wallet_txn_created_brin"),
        ]
        constraints = [
            # A client's reference names one bet (win, deposit...): a second bet under it would be one that no
            # rollback could ever find. Postings insert with ON CONFLICT DO NOTHING on this index (posting.py),
            # so a duplicate is a clean 409 ``duplicate_reference``; the index also serves the rollback lookup.
            models.UniqueConstraint(
                fields=["api_client", "reference", "type"],
                name="wallet_txn_reference_unique",
                condition=~models.Q(reference="") & ~models.Q(api_client=""),
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="wallet_transaction_immutable", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_type_display()}, {format_money(self.amount, self.currency)}"


class Entry(models.Model):
    id = models.BigAutoField(primary_key=True)
    # indexed by wallet_entry_txn_idx and wallet_entry_account_idx below, not twice
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries", db_index=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False)
    amount = models.DecimalField(max_digits=20, decimal_places=4, help_text="Signed: positive credits the account")
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "wallet_entry"
        indexes = [
            models.Index(fields=["account", "-id"], name="wallet_entry_account_idx"),
            models.Index(fields=["transaction"], name="wallet_entry_txn_idx"),
            BrinIndex(fields=["created_at"], name="wallet_entry_created_brin"),
        ]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="wallet_entry_not_zero")]
        triggers = [
            pgtrigger.Protect(name="wallet_entry_immutable", operation=pgtrigger.Update | pgtrigger.Delete),
            pgtrigger.Trigger(
                name="wallet_entry_balanced",
                operation=pgtrigger.Insert,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                timing=pgtrigger.Deferred,
                func=BALANCED,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on account {self.account_id}"


class IdempotencyRecord(models.Model):
    """The first result of every write under an ``Idempotency-Key``, per API client: replayed, never redone."""

    api_client = models.CharField(max_length=16)
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_client", "key"], name="wallet_idempotency_unique")]
        indexes = [BrinIndex(fields=["created_at"], name="wallet_idem_created_brin")]

    def __str__(self) -> str:
        return f"{self.api_client}:{self.key}"


class Withdrawal(models.Model):
    """A withdrawal request: cash moved to ``pending_withdrawal`` at once, then approved and paid by Finance."""

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="withdrawals")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=20, decimal_places=4)
    status = models.CharField(max_length=10, choices=WithdrawalStatus.choices, default=WithdrawalStatus.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    api_client = models.CharField(max_length=16, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    payment_method = models.CharField(max_length=30, blank=True)
    first_approver = models.ForeignKey(
        "staff.StaffUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    second_approver = models.ForeignKey(
        "staff.StaffUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("-id",)
        permissions = [
            ("approve_withdrawal", "Can approve, reject and settle withdrawals"),
            ("hold_withdrawal", "Can place and release holds on withdrawals"),
        ]
        indexes = [models.Index(fields=["status", "id"], name="wallet_withdrawal_queue_idx")]

    def __str__(self) -> str:
        money = format_money(self.amount, self.currency)
        return f"Withdrawal #{self.pk}, {money} ({self.get_status_display().lower()})"


class WithdrawalHold(models.Model):
    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="holds")
    kind = models.CharField(max_length=20, default="manual", help_text="manual, player_restricted; later: aml_case")
    authority = models.CharField(
        max_length=24,
        default="compliance",  # rows from before authorities existed: fail closed
        help_text="On whose authority (compliance, responsible_gambling, finance, support): who may release it",
    )
    reason = models.CharField(max_length=500)
    placed_by = models.ForeignKey("staff.StaffUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(
        "staff.StaffUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"hold on #{self.withdrawal_id}: {self.reason}"


class Adjustment(models.Model):
    """A manual credit (+) or debit (-) by staff, with a reason; above a threshold a second person approves."""

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="adjustments")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=20, decimal_places=4, help_text="Positive credits, negative debits")
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=AdjustmentStatus.choices, default=AdjustmentStatus.PENDING)
    requested_by = models.ForeignKey("staff.StaffUser", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        "staff.StaffUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True, help_text="Why it was rejected (or approved)")
    posted = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment"
    )

    class Meta:
        ordering = ("-id",)
        permissions = [("approve_adjustment", "Can approve another staff member's adjustment")]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="wallet_adjustment_not_zero")]

    def __str__(self) -> str:
        money = format_money(self.amount, self.currency, signed=True)
        return f"Adjustment #{self.pk}, {money} ({self.get_status_display().lower()})"


class PlayerDay(models.Model):
    """What the ledger moved for one player on one local day (the jurisdiction's clock) in one currency.

    Written by the posting's own statement (an upsert beside the ledger insert, ``apps/wallet/rollups.py``), under
    the player's account lock, so it never lags and adds no contention. Net figures: a rollback takes its bet off
    ``stakes`` and ``bet_count`` on the day the rollback is posted (as limit usage always counted it), a cancelled
    withdrawal comes off ``withdrawals``. Derived data, so not append-only: ``manage.py ledger_verify`` proves it
    equals the ledger and ``manage.py wallet_rollups_build`` rebuilds it.
    """

    id = models.BigAutoField(primary_key=True)
    # indexed by the unique constraint (player, currency, day)
    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="+", db_index=False)
    currency = models.CharField(max_length=3)
    day = models.DateField(help_text="Local date on the jurisdiction's clock when the postings were made")
    deposits = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    deposit_count = models.IntegerField(default=0)
    withdrawals = models.DecimalField(max_digits=20, decimal_places=4, default=0, help_text="Net of cancels")
    withdrawal_count = models.IntegerField(default=0)
    withdrawals_paid = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    stakes = models.DecimalField(max_digits=20, decimal_places=4, default=0, help_text="Net of rollbacks")
    bonus_stakes = models.DecimalField(max_digits=20, decimal_places=4, default=0, help_text="Of stakes: bonus funds")
    bet_count = models.IntegerField(default=0)
    wins = models.DecimalField(max_digits=20, decimal_places=4, default=0, help_text="Net of win rollbacks")
    bonus_wins = models.DecimalField(max_digits=20, decimal_places=4, default=0, help_text="Of wins: to bonus")
    win_count = models.IntegerField(default=0)
    bonus_awarded = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    bonus_converted = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    bonus_forfeited = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    adjustments = models.DecimalField(
        max_digits=20, decimal_places=4, default=0, help_text="Signed: credits less debits"
    )

    class Meta:
        db_table = "wallet_player_day"
        verbose_name = "player day rollup"
        constraints = [
            models.UniqueConstraint(fields=["player", "currency", "day"], name="wallet_player_day_unique"),
        ]

    def __str__(self) -> str:
        return f"player {self.player_id} {self.day} {self.currency}"


class PostingQueueItem(models.Model):
    """One posting waiting for one durable consumer (``apps/wallet/events.py``): inserted by the posting's own
    statement, deleted in the transaction that processed it. The rows still here are the consumer's position."""

    id = models.BigAutoField(primary_key=True)
    consumer = models.CharField(max_length=64)
    transaction_id = models.BigIntegerField()  # no foreign key: the ledger may be partitioned, nothing points in
    player_id = models.BigIntegerField()
    cash_part = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    bonus_part = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    queued_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "wallet_posting_queue"
        verbose_name = "queued posting event"
        indexes = [
            models.Index(fields=["consumer", "id"], name="wallet_queue_consumer_idx"),
            models.Index(fields=["consumer", "player_id", "id"], name="wallet_queue_player_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.consumer}: transaction {self.transaction_id}"
