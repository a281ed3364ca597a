"""Segments: rule sets over the players (criteria compiled to one SQL query, apps/crm/criteria.py) and their
snapshotted members. Written only by apps/crm/services.py."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.crm.choices import CampaignMode, CampaignState, SegmentKind


class Segment(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True, max_length=2000)
    criteria = models.JSONField(default=dict, blank=True, help_text="Validated by apps/crm/criteria.py")
    kind = models.CharField(max_length=10, choices=SegmentKind.choices, default=SegmentKind.DYNAMIC)
    currency = models.CharField(
        max_length=3, blank=True, help_text="ISO 4217: the currency of the deposit and GGR amounts of the criteria"
    )
    created_by = models.ForeignKey("staff.StaffUser", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True, help_text="When the members were last snapshotted")
    member_count = models.PositiveIntegerField(null=True, blank=True, help_text="Members at the last snapshot")

    class Meta:
        ordering = ("name",)
        permissions = [("export_segment", "Can download a segment's marketing export")]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=SegmentKind.values), name="crm_segment_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A player in a segment's last snapshot. A snapshot replaces the members in one statement; a player who
    stays keeps the time they were first added."""

    id = models.BigAutoField(primary_key=True)
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="+", db_index=False)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "player"], name="crm_segment_member_unique")]

    def __str__(self) -> str:
        return f"{self.player_id} in segment {self.segment_id}"


class Campaign(models.Model):
    """A bonus template given to a segment's players in a time window, by a Celery job in chunks
    (apps/crm/campaigns.py). ``cursor`` is the last player id done: a chunk's awards, the cursor and the counters
    commit together, so a killed job resumes after the last whole chunk, and the award's own idempotency key
    (``campaign-<id>``) means a chunk done twice never awards twice."""

    name = models.CharField(max_length=100, unique=True)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="campaigns")
    template = models.ForeignKey("bonuses.BonusTemplate", on_delete=models.PROTECT, related_name="campaigns")
    mode = models.CharField(max_length=8, choices=CampaignMode.choices, default=CampaignMode.OFFER)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=CampaignState.choices, default=CampaignState.DRAFT)
    target_count = models.PositiveIntegerField(default=0, help_text="Members when the run started")
    processed = models.PositiveIntegerField(default=0)
    awarded = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    refusals = models.JSONField(default=dict, blank=True, help_text="Refusals by reason code")
    cost = models.DecimalField(max_digits=16, decimal_places=2, default=0, help_text="Bonus money given so far")
    cursor = models.BigIntegerField(default=0)
    created_by = models.ForeignKey("staff.StaffUser", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_by = models.ForeignKey("staff.StaffUser", null=True, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="The job's last chunk")
    cancelled_by = models.ForeignKey("staff.StaffUser", null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ("-created_at", "-id")
        permissions = [("run_campaign", "Can start or cancel a campaign")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="crm_campaign_window"),
            models.CheckConstraint(condition=models.Q(state__in=CampaignState.values), name="crm_campaign_state"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def percent(self) -> int:
        if self.target_count <= 0:
            return 100 if self.state == CampaignState.COMPLETED else 0
        return min(100, self.processed * 100 // self.target_count)
