"""Report runs and the operator-level day rollups (docs/REPORTS.md)."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_STATES = (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED)


class ReportRun(models.Model):
    """One run of a report type with its parameters and format: who or which schedule asked, its state and progress,
    timings, and the file it wrote with its size and SHA-256. Runs of a closed period over the same data write the
    same bytes (the same SHA-256)."""

    id = models.BigAutoField(primary_key=True)
    report = models.CharField(max_length=50, help_text="The report type's code")
    params = models.JSONField(default=dict, help_text="The parameters as canonical texts")
    format = models.CharField(max_length=5)
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    schedule = models.CharField(max_length=200, blank=True, help_text="The beat entry that asked, if any")
    source = models.CharField(max_length=10, default="admin", help_text="admin, schedule, command or rerun")
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    progress_done = models.IntegerField(default=0)
    progress_total = models.IntegerField(default=0)
    row_count = models.BigIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    file_name = models.CharField(max_length=200, blank=True, help_text="The file's name in the reports storage")
    file_size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    file_deleted_at = models.DateTimeField(null=True, blank=True, help_text="Removed by the retention sweep")
    database = models.CharField(max_length=20, blank=True, help_text="The database alias the run read")
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    filed_at = models.DateTimeField(null=True, blank=True, help_text="When staff recorded it as sent to the regulator")
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    filing_reference = models.CharField(max_length=100, blank=True, help_text="The regulator's receipt or reference")

    class Meta:
        ordering = ("-queued_at", "-id")
        indexes = [
            models.Index(fields=["report", "-queued_at"], name="reports_run_report_idx"),
            models.Index(
                fields=["state", "heartbeat_at"],
                name="reports_run_open_idx",
                condition=models.Q(state__in=("queued", "running")),
            ),
        ]
        permissions = [
            ("run_financial", "Run and download financial reports (GGR and NGR, large transactions)"),
            ("run_regulatory", "Run and download regulatory returns (UK quarterly, MGA monthly)"),
            ("run_compliance", "Run and download KYC and responsible-gambling reports"),
            ("run_aml", "Run and download AML activity reports"),
            ("run_marketing", "Run and download bonus cost reports"),
            ("run_player_statement", "Run and download a player's statement"),
            ("schedule_report", "Schedule reports (create, edit and pause their schedules)"),
            ("view_dashboard_finance", "See the dashboard's money figures (GGR, NGR, deposits)"),
        ]

    def __str__(self) -> str:
        from apps.reports.types import report_type

        kind = report_type(self.report)
        title = kind.title if kind is not None else self.report
        # the period names the run ("MGA monthly return #7 (2026-02)"); without a due date, the first parameter
        key = kind.due.param if kind is not None and kind.due is not None else next(iter(self.params), None)
        period = self.params.get(key, "") if key else ""
        return f"{title} #{self.id}" + (f" ({period})" if period else "")

    @property
    def progress_percent(self) -> int:
        if self.state == RunState.SUCCEEDED:
            return 100
        if self.progress_total <= 0:
            return 0
        return max(0, min(99, int(100 * self.progress_done / self.progress_total)))

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class OperatorDay(models.Model):
    """Operator-level day rollup: per local day (the player's jurisdiction's clock), jurisdiction, brand, currency,
    transaction type, game category and provider, the sum of the postings' headline amounts, of their cash and bonus
    parts, and their count. Kept from the posting events by ``apps.reports.rollups`` (a batch consumer), checked
    against the ledger to the cent by ``manage.py reports_rollups_check``. Long periods read these rows, never the
    ledger."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    jurisdiction = models.CharField(max_length=10)
    brand_id = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    type = models.CharField(max_length=20)
    game_category = models.CharField(max_length=20, blank=True)
    provider = models.CharField(max_length=50, blank=True)
    amount = models.DecimalField(max_digits=24, decimal_places=4, default=0)
    cash_amount = models.DecimalField(max_digits=24, decimal_places=4, default=0)
    bonus_amount = models.DecimalField(max_digits=24, decimal_places=4, default=0)
    count = models.BigIntegerField(default=0)

    class Meta:
        db_table = "reports_operator_day"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "jurisdiction", "brand_id", "currency", "type", "game_category", "provider"],
                name="reports_operator_day_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.jurisdiction} {self.currency} {self.type} {self.amount}"


class PeriodClose(models.Model):
    """A month-end close (``apps.reports.closes``): the day it closes, when it was taken and how long it took, the
    open-bets window its figures used, and on a quarter's last day the quarter's first day (its accounts are taken
    too). Its lines are the figures; none of the three tables takes an UPDATE (a trigger refuses it): a close is
    replaced whole, on purpose and audited (``closes.close_take(..., retake=True)``)."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField(unique=True, help_text="The month's last local day")
    taken_at = models.DateTimeField(default=timezone.now)
    open_bet_hours = models.PositiveSmallIntegerField(default=24)
    quarter_start = models.DateField(null=True, blank=True, help_text="Set when the day ends a quarter")
    seconds = models.FloatField(default=0, help_text="How long taking it took")

    class Meta:
        db_table = "reports_period_close"
        default_permissions = ()  # written by the close job, read by the returns: no screen edits them
        ordering = ("-day",)
        triggers = [pgtrigger.Protect(name="reports_period_close_no_update", operation=pgtrigger.Update)]

    def __str__(self) -> str:
        return f"Close of {self.day.isoformat()}"


class FundsClose(models.Model):
    """Per jurisdiction and currency: the players' balances at the end of the close's day on each player's clock,
    the players holding cash or bonus money, and the open bets then."""

    id = models.BigAutoField(primary_key=True)
    close = models.ForeignKey(PeriodClose, on_delete=models.CASCADE, related_name="funds")
    jurisdiction = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    cash = models.DecimalField(max_digits=24, decimal_places=4)
    bonus = models.DecimalField(max_digits=24, decimal_places=4)
    pending_withdrawals = models.DecimalField(max_digits=24, decimal_places=4)
    players_with_funds = models.IntegerField()
    open_bets = models.DecimalField(max_digits=24, decimal_places=4)
    open_bet_count = models.IntegerField()

    class Meta:
        db_table = "reports_close_funds"
        default_permissions = ()  # written by the close job, read by the returns: no screen edits them
        constraints = [
            models.UniqueConstraint(fields=["close", "jurisdiction", "currency"], name="reports_close_funds_key")
        ]
        triggers = [pgtrigger.Protect(name="reports_close_funds_no_update", operation=pgtrigger.Update)]

    def __str__(self) -> str:
        return f"{self.jurisdiction} {self.currency} {self.cash + self.bonus}"


class AccountsClose(models.Model):
    """Per jurisdiction, on a quarter's close: the quarter's active accounts and new registrations."""

    id = models.BigAutoField(primary_key=True)
    close = models.ForeignKey(PeriodClose, on_delete=models.CASCADE, related_name="accounts")
    jurisdiction = models.CharField(max_length=10)
    active = models.IntegerField()
    registrations = models.IntegerField()

    class Meta:
        db_table = "reports_close_accounts"
        default_permissions = ()  # written by the close job, read by the returns: no screen edits them
        constraints = [models.UniqueConstraint(fields=["close", "jurisdiction"], name="reports_close_accounts_key")]
        triggers = [pgtrigger.Protect(name="reports_close_accounts_no_update", operation=pgtrigger.Update)]

    def __str__(self) -> str:
        return f"{self.jurisdiction}: {self.active} active, {self.registrations} new"
