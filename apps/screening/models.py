"""Watchlists as versioned snapshots, their entries, and the screening hits staff review.

A list (``WatchList``) is whatever an operator imports under one code: OFAC's SDN file, the UN consolidated list,
or a list named in a simple CSV. Every import that changes something is a new ``ListSnapshot`` holding a full copy
of the list's entries (15,000 rows for OFAC: cheap, and an old snapshot stays readable as it was, which an
auditor asks for: "what did the list say on the day you screened this player?"). The snapshot records which entry
ids were added, changed (content hash differs) and removed against the previous one, so a re-screen can look at
what changed only. ``WatchList.current`` is the snapshot screening reads.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EntryType(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    ENTITY = "entity", "Entity"
    VESSEL = "vessel", "Vessel"
    AIRCRAFT = "aircraft", "Aircraft"


class SourceFormat(models.TextChoices):
    OFAC_SDN = "ofac_sdn", "OFAC sdn.csv (+ alt.csv)"
    UN_XML = "un_xml", "UN consolidated list (XML)"
    CSV = "csv", "Simple CSV"


class HitState(models.TextChoices):
    OPEN = "open", "Open (to review)"
    CONFIRMED = "confirmed", "Confirmed"
    FALSE_POSITIVE = "false_positive", "False positive"
    WITHDRAWN = "withdrawn", "Withdrawn (the entry left the list before review)"


class WatchList(models.Model):
    code = models.SlugField(max_length=64, unique=True, help_text="ofac-sdn, un-consolidated, or a CSV's list")
    name = models.CharField(max_length=200)
    source_format = models.CharField(max_length=16, choices=SourceFormat.choices)
    current = models.ForeignKey(
        "ListSnapshot", null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="read by screening"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        permissions = [("import_list", "Can import a watchlist file")]

    def __str__(self) -> str:
        return self.name


class ListSnapshot(models.Model):
    watchlist = models.ForeignKey(WatchList, on_delete=models.PROTECT, related_name="snapshots")
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, help_text="of the imported file(s); the same file again is a no-op")
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entry_count = models.PositiveIntegerField(default=0)
    added = models.JSONField(default=list, help_text="entry ids new in this snapshot")
    changed = models.JSONField(default=list, help_text="entry ids whose content differs from the previous snapshot")
    removed = models.JSONField(default=list, help_text="entry ids of the previous snapshot missing from this one")
    rescreened_at = models.DateTimeField(
        null=True, blank=True, help_text="when the player base was screened against what this snapshot added or changed"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["watchlist", "-id"], name="screening_snapshot_list_idx"),
            models.Index(fields=["id"], name="screening_snapshot_todo_idx", condition=models.Q(rescreened_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.watchlist.code} #{self.pk} ({self.entry_count} entries)"


class ListEntry(models.Model):
    snapshot = models.ForeignKey(ListSnapshot, on_delete=models.PROTECT, related_name="entries")
    entry_id = models.CharField(max_length=64, help_text="the list's own id (OFAC ent_num, UN DATAID, the CSV's)")
    entry_type = models.CharField(max_length=16, choices=EntryType.choices)
    name = models.CharField(max_length=500)
    aliases = models.JSONField(default=list)
    birth_dates = models.JSONField(default=list, help_text="YYYY-MM-DD, YYYY-MM, YYYY, or YYYY..YYYY (a range)")
    countries = models.JSONField(default=list, help_text="ISO 3166-1 alpha-2 (nationality, citizenship, birth)")
    programs = models.JSONField(default=list)
    remarks = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the fields above: a change is a new hash")

    class Meta:
        ordering = ["snapshot", "entry_id"]
        verbose_name_plural = "list entries"
        constraints = [models.UniqueConstraint(fields=["snapshot", "entry_id"], name="screening_entry_unique")]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.name}"


class ScreeningHit(models.Model):
    """A player whose name scored at or above the threshold against one entry. A false positive is remembered for
    the (player, list, entry id) pair while ``subject_hash`` (the player's normalised name and birth date) and
    ``entry_hash`` (the entry's content) stay the same: a change on either side screens afresh."""

    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="screening_hits")
    watchlist = models.ForeignKey(WatchList, on_delete=models.PROTECT, related_name="+")
    matched_entry = models.ForeignKey(
        ListEntry, on_delete=models.PROTECT, related_name="+", help_text="the version matched"
    )
    entry_id = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)
    subject_hash = models.CharField(max_length=64)
    matched_name = models.CharField(max_length=500)
    score = models.DecimalField(max_digits=4, decimal_places=3)
    evidence = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=HitState.choices, default=HitState.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("review_screeninghit", "Can confirm a screening hit or mark it a false positive"),
            ("screen_file", "Can screen a customer file against the watchlists"),
        ]
        indexes = [models.Index(fields=["player", "watchlist", "entry_id"], name="screening_hit_pair_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["player", "watchlist", "entry_id"],
                condition=models.Q(state="open"),
                name="screening_hit_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"hit #{self.pk}: player {self.player_id} ~ {self.entry_id} ({self.score})"
