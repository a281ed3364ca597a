"""AML monitoring and case management: rules as data, their hits and alerts, cases with their timeline.

What the database enforces, not only the code: a published rule version's kind, parameters and score never change
(a new version is a new row); at most one published live and one published shadow version per rule; hits, alerts'
first evidence and the case timeline are append-only; an alert is unique per (rule, player, window); a player has
at most one open case of a type; a closed case names its outcome and who closed it.

The tipping-off wall: nothing here is readable without a ``compliance.*`` permission, and nothing outside
apps/compliance names a case or an alert to staff without one (docs/COMPLIANCE.md, "The wall").
"""

from __future__ import annotations

from datetime import time

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.compliance.choices import (
    OPEN_STATES,
    CaseEventKind,
    CaseSource,
    CaseState,
    CaseType,
    Outcome,
    Priority,
    RuleKind,
    SlaState,
    VersionMode,
    VersionState,
    WaitingOn,
)

VERSION_GUARD = """
    IF OLD.state IN ('published', 'retired') AND (
        NEW.kind IS DISTINCT FROM OLD.kind OR NEW.params IS DISTINCT FROM OLD.params
        OR NEW.score IS DISTINCT FROM OLD.score OR NEW.priority IS DISTINCT FROM OLD.priority
        OR NEW.case_type IS DISTINCT FROM OLD.case_type OR NEW.mode IS DISTINCT FROM OLD.mode
        OR NEW.number IS DISTINCT FROM OLD.number OR NEW.rule_id IS DISTINCT FROM OLD.rule_id
    ) THEN
        RAISE EXCEPTION 'rule version % is %: make a new version', OLD.id, OLD.state USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.state = 'retired' AND NEW.state <> 'retired' THEN
        RAISE EXCEPTION 'rule version % is retired', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
"""


class Rule(models.Model):
    """A named monitoring rule. What it checks lives in its versions; ``code`` is the stable name alerts show."""

    code = models.SlugField(max_length=64, unique=True, help_text="Stable name, e.g. structuring-under-cdd")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=32, choices=RuleKind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("code",)
        permissions = [
            ("publish_rule", "Publish or retire an AML rule version (the second person)"),
            ("snooze_rule", "Snooze an AML rule for one player"),
            ("backtest_rule", "Backtest an AML rule version on history"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class RuleVersion(models.Model):
    """One version of a rule: typed parameters (validated by the kind), the score and the case it opens.

    Lifecycle: ``draft`` → ``pending`` (publication asked, a second person decides) → ``published`` → ``retired``.
    A published version runs ``live`` (raises alerts) or in ``shadow`` (hits recorded, no alert) beside the live
    one; publishing a new live version retires the previous live one."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=32, choices=RuleKind.choices)
    params = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    score = models.PositiveSmallIntegerField(default=50, help_text="0-100: how strongly a hit suggests risk")
    case_type = models.CharField(max_length=24, choices=CaseType.choices, default=CaseType.AML)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    mode = models.CharField(max_length=8, choices=VersionMode.choices, default=VersionMode.LIVE)
    state = models.CharField(max_length=12, choices=VersionState.choices, default=VersionState.DRAFT)
    note = models.CharField(max_length=500, blank=True, help_text="What changed and why")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("rule", "-number")
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="compliance_version_number_unique"),
            models.UniqueConstraint(
                fields=["rule", "mode"],
                condition=Q(state=VersionState.PUBLISHED),
                name="compliance_version_one_published_per_mode",
            ),
            models.UniqueConstraint(
                fields=["rule"], condition=Q(state=VersionState.PENDING), name="compliance_version_one_pending"
            ),
            models.CheckConstraint(
                condition=~Q(state=VersionState.PUBLISHED) | Q(published_at__isnull=False),
                name="compliance_version_published_has_time",
            ),
            models.CheckConstraint(condition=Q(score__lte=100), name="compliance_version_score_range"),
        ]
        triggers = [
            pgtrigger.Protect(name="compliance_version_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Trigger(
                name="compliance_version_guard", operation=pgtrigger.Update, when=pgtrigger.Before, func=VERSION_GUARD
            ),
        ]
        indexes = [models.Index(fields=["state", "kind"], name="compliance_version_state_idx")]

    def __str__(self) -> str:
        return f"{self.rule.code} v{self.number}"


class RuleSnooze(models.Model):
    """A rule stays quiet for one player until ``until`` (a known, explained pattern), with a reason."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="snoozes")
    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    until = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["player", "rule", "until"], name="compliance_snooze_idx")]
        triggers = [pgtrigger.Protect(name="compliance_snooze_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.rule.code} snoozed for player {self.player_id} until {self.until:%Y-%m-%d}"


class RuleHit(models.Model):
    """One evaluation that hit: which version, for whom, over which window, and the evidence (amounts, the
    window, the transactions) so an analyst sees why. Live hits become alerts; shadow hits stay here. Append-only
    (the alert link is set once, in the hit's own transaction)."""

    version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="hits")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="hits")
    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="+")
    shadow = models.BooleanField(default=False)
    window_key = models.CharField(max_length=64)
    evidence = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    transaction_id = models.BigIntegerField(null=True, blank=True, help_text="The posting that was evaluated")
    alert = models.ForeignKey("Alert", null=True, blank=True, on_delete=models.PROTECT, related_name="hits")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["version", "at"], name="compliance_hit_version_idx"),
            models.Index(fields=["player", "at"], name="compliance_hit_player_idx"),
        ]
        triggers = [pgtrigger.Protect(name="compliance_hit_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"hit of {self.version} for player {self.player_id}"


class Alert(models.Model):
    """A live rule's hit for a player and window, deduplicated: a second hit in the same window adds to this alert
    (``hit_count``, ``last_hit_at``) rather than making another. Attached to the player's open case of the
    version's case type, or to a new case."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="alerts")
    version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="alerts")
    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="+")
    window_key = models.CharField(max_length=64)
    score = models.PositiveSmallIntegerField()
    evidence = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    case = models.ForeignKey("Case", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    created_at = models.DateTimeField(default=timezone.now)
    hit_count = models.PositiveIntegerField(default=1)
    last_hit_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(fields=["rule", "player", "window_key"], name="compliance_alert_dedup"),
        ]
        indexes = [
            models.Index(fields=["player", "-id"], name="compliance_alert_player_idx"),
            models.Index(fields=["version"], name="compliance_alert_version_idx"),
        ]
        triggers = [pgtrigger.Protect(name="compliance_alert_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"Alert #{self.pk} ({self.rule.code})"


class CaseInbox(models.Model):
    """A team's inbox: which case types land in it, its working hours and public holidays (the SLA clock), its
    lead (the first escalation) and where round-robin assignment stands."""

    name = models.CharField(max_length=100, unique=True)
    team = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="case_inbox")
    case_types = models.JSONField(default=list, blank=True, help_text="Case types routed here")
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    time_zone = models.CharField(max_length=64, default="Europe/London")
    holiday_country = models.CharField(max_length=2, default="GB", help_text="Public holidays of (ISO 3166-1)")
    holiday_subdivision = models.CharField(max_length=10, blank=True, help_text="e.g. ENG for England")
    workday_start = models.TimeField(default=time(9, 0))
    workday_end = models.TimeField(default=time(17, 30))
    workdays = models.JSONField(default=list, help_text="ISO weekdays worked, 1 = Monday")
    auto_assign = models.BooleanField(default=True, help_text="Round-robin new cases to members not away")
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "case inboxes"
        constraints = [models.CheckConstraint(condition=Q(workday_start__lt=models.F("workday_end")), name="inbox_day")]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Hours of working time to close a case, by type and priority (high 24, medium 72, low 168 by default), and
    the share of it after which the case is at risk."""

    case_type = models.CharField(max_length=24, choices=CaseType.choices)
    priority = models.CharField(max_length=8, choices=Priority.choices)
    hours = models.PositiveIntegerField()
    at_risk_percent = models.PositiveSmallIntegerField(default=75)

    class Meta:
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["case_type", "priority"], name="compliance_sla_unique"),
            models.CheckConstraint(condition=Q(hours__gt=0), name="compliance_sla_hours"),
            models.CheckConstraint(
                condition=Q(at_risk_percent__gt=0, at_risk_percent__lt=100), name="compliance_sla_at_risk"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_case_type_display()}, {self.get_priority_display()}: {self.hours} h"


class AnalystStatus(models.Model):
    """An analyst marked away is skipped by round-robin assignment until ``away_until`` (or until unmarked)."""

    staff = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_status")
    away = models.BooleanField(default=False)
    away_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "analyst statuses"

    def __str__(self) -> str:
        return f"{self.staff} {'away' if self.away else 'available'}"


class Case(models.Model):
    """The unit of an analyst's work. Its state changes only through apps/compliance/cases.py, each with a
    timeline event and an audit event in the same transaction.

    The SLA clock (apps/compliance/sla.py): ``due_at`` is ``sla_hours`` of the inbox's working time after
    ``opened_at`` plus the working time spent waiting (``paused_seconds``, and since ``paused_at`` while
    ``waiting``)."""

    type = models.CharField(max_length=24, choices=CaseType.choices)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    state = models.CharField(max_length=20, choices=CaseState.choices, default=CaseState.NEW)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    source = models.CharField(max_length=24, choices=CaseSource.choices, default=CaseSource.MANUAL)
    title = models.CharField(max_length=200)
    player = models.ForeignKey("players.Player", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    inbox = models.ForeignKey(CaseInbox, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="compliance_cases"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # the SLA clock
    sla_hours = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    at_risk_at = models.DateTimeField()
    sla_state = models.CharField(max_length=10, choices=SlaState.choices, default=SlaState.ON_TRACK)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveBigIntegerField(default=0, help_text="Working time spent waiting, so far")
    waiting_on = models.CharField(max_length=8, choices=WaitingOn.choices, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0, help_text="0 none, 1 team lead, 2 MLRO")
    # closing
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closing_reason = models.TextField(blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-id",)
        permissions = [
            ("view_all_cases", "See every case (the MLRO)"),
            ("work_case", "Work a case: notes, state, actions (on cases assigned to them or their inbox)"),
            ("assign_case", "Assign cases"),
            ("approve_case_closing", "Give the second approval of a case closed as confirmed"),
            ("case_actions", "Take actions from a case (hold, restrict, require EDD, exclude)"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["player", "type"], condition=Q(state__in=OPEN_STATES), name="compliance_case_one_open"
            ),
            models.CheckConstraint(
                condition=~Q(state=CaseState.CLOSED)
                | (Q(closed_at__isnull=False) & ~Q(outcome="") & Q(closed_by__isnull=False)),
                name="compliance_case_closed_complete",
            ),
            models.CheckConstraint(
                condition=Q(state=CaseState.CLOSED) | Q(outcome=""), name="compliance_case_outcome_only_closed"
            ),
            models.CheckConstraint(
                condition=Q(state=CaseState.WAITING) | Q(paused_at__isnull=True), name="compliance_case_pause_waits"
            ),
        ]
        indexes = [
            models.Index(
                fields=["state", "due_at"], name="compliance_case_open_idx", condition=Q(state__in=OPEN_STATES)
            ),
            # the SLA sweep's at-risk pass: only the open cases still on track
            models.Index(
                fields=["at_risk_at"],
                name="compliance_case_at_risk_idx",
                condition=Q(state__in=OPEN_STATES, sla_state=SlaState.ON_TRACK),
            ),
            models.Index(fields=["assignee", "due_at"], name="compliance_case_assignee_idx"),
            models.Index(fields=["inbox", "due_at"], name="compliance_case_inbox_idx"),
            models.Index(fields=["player", "-id"], name="compliance_case_player_idx"),
        ]
        triggers = [pgtrigger.Protect(name="compliance_case_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"Case #{self.pk}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state != CaseState.CLOSED


class CaseEvent(models.Model):
    """The case's timeline: append-only in the database (notes included: a note is corrected by another note)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=CaseEventKind.choices)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ("at", "id")
        indexes = [models.Index(fields=["case", "at"], name="compliance_case_event_idx")]
        triggers = [
            pgtrigger.Protect(name="compliance_case_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case {self.case_id}"


class CaseTransaction(models.Model):
    """A ledger transaction linked to a case as evidence (by an alert's evidence or by hand)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transactions")
    transaction_id = models.BigIntegerField()
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "transaction_id"], name="compliance_case_txn_unique")]
        triggers = [pgtrigger.Protect(name="compliance_case_txn_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"transaction #{self.transaction_id} on case {self.case_id}"


class CaseAttachment(models.Model):
    """A file on a case, validated as KYC documents are (content sniffed, images re-encoded, PDFs inspected)
    before it is stored; kept in the KYC storage under its SHA-256."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    file_name = models.CharField(max_length=200, help_text="The stored object's name")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        triggers = [
            pgtrigger.Protect(name="compliance_attachment_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return self.original_name
