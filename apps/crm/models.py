"""Segments: rule sets over the players (criteria compiled to one SQL query, apps/crm/criteria.py) and their
snapshotted members. Written only by apps/crm/services.py."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.crm.choices import SegmentKind


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
