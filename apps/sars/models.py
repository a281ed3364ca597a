"""Suspicious activity reports: drafted from a case by the MLRO, approved by a second person, exported as goAML
XML (apps/sars/goaml), filed with the FIU.

What the database enforces, not only the code: a SAR's content (report code, texts, indicators, subject,
transactions) changes only while it is a draft, so what the checker approved is what is exported; a filed SAR
never changes at all and no SAR is ever deleted (a correction is a new report naming the first in
``corrects``); an export is append-only, its XML kept with its SHA-256, so the file the FIU received can be shown
byte for byte years later.

The tipping-off wall: nothing here is readable without ``sars.view_sar``, and nothing outside apps/sars names a
SAR, counts SARs or links to one (docs/SARS.md, "The wall").
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.sars.choices import ReportCode, SarState

SAR_GUARD = """
    IF OLD.state = 'filed' THEN
        RAISE EXCEPTION 'SAR % is filed: it never changes (file a correction)', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.state <> 'draft' AND (
        NEW.report_code IS DISTINCT FROM OLD.report_code OR NEW.reason IS DISTINCT FROM OLD.reason
        OR NEW.action IS DISTINCT FROM OLD.action OR NEW.indicators IS DISTINCT FROM OLD.indicators
        OR NEW.occupation IS DISTINCT FROM OLD.occupation OR NEW.transaction_ids IS DISTINCT FROM OLD.transaction_ids
        OR NEW.case_id IS DISTINCT FROM OLD.case_id OR NEW.player_id IS DISTINCT FROM OLD.player_id
        OR NEW.corrects_id IS DISTINCT FROM OLD.corrects_id OR NEW.created_by_id IS DISTINCT FROM OLD.created_by_id
    ) THEN
        RAISE EXCEPTION 'SAR % is %: its content changes only as a draft', OLD.id, OLD.state
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
"""


class Sar(models.Model):
    """One report to the FIU about one player (the case's), of code SAR (an activity: the parties) or STR (the
    case's linked ledger transactions). Its state changes only through apps/sars/services, each change with an
    audit event (``visibility: compliance``) in the same transaction."""

    case = models.ForeignKey("compliance.Case", on_delete=models.PROTECT, related_name="+")
    player = models.ForeignKey("players.Player", on_delete=models.PROTECT, related_name="+")
    report_code = models.CharField(max_length=4, choices=ReportCode.choices, default=ReportCode.SAR)
    state = models.CharField(max_length=16, choices=SarState.choices, default=SarState.DRAFT)
    reason = models.TextField(help_text="Why this is suspicious (goAML reason)")
    action = models.TextField(blank=True, help_text="What the operator did (goAML action)")
    indicators = ArrayField(
        models.CharField(max_length=50), default=list, blank=True, help_text="The FIU's report indicator codes"
    )
    occupation = models.CharField(
        max_length=255, blank=True, help_text="The subject's occupation, as the source-of-funds review found it"
    )
    transaction_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections", help_text="Filed SAR"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    export = models.ForeignKey(
        "SarExport", null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="The valid file"
    )
    fiu_reference = models.CharField(max_length=255, blank=True, help_text="The FIU's reference for the filing")
    filed_on = models.DateField(null=True, blank=True)
    filed_at = models.DateTimeField(null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("-id",)
        verbose_name = "suspicious activity report"
        permissions = [
            ("draft_sar", "Draft, edit and submit a SAR from a case; record its filing (the MLRO)"),
            ("approve_sar", "Approve a SAR drafted by someone else (the second person)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state=SarState.FILED)
                | (~Q(fiu_reference="") & Q(filed_on__isnull=False) & Q(filed_by__isnull=False)),
                name="sars_filed_complete",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=[SarState.READY, SarState.FILED]) | Q(export__isnull=False),
                name="sars_ready_has_export",
            ),
            models.CheckConstraint(condition=~Q(corrects=models.F("id")), name="sars_correction_not_itself"),
        ]
        indexes = [
            models.Index(fields=["state", "-id"], name="sars_state_idx"),
            models.Index(fields=["case"], name="sars_case_idx"),
            models.Index(fields=["player", "-id"], name="sars_player_idx"),
        ]
        triggers = [
            pgtrigger.Protect(name="sars_sar_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Trigger(name="sars_sar_guard", operation=pgtrigger.Update, when=pgtrigger.Before, func=SAR_GUARD),
        ]

    def __str__(self) -> str:
        return f"{self.report_code} #{self.pk}"

    @property
    def entity_reference(self) -> str:
        """The operator's own reference (goAML ``entity_reference``): stable, and the same in every export."""
        return f"PITBOSS-{self.report_code}-{self.pk}"


class SarExport(models.Model):
    """One export run: the XML it built (if it could), whether the schema and the business rules accepted it, and
    each error by path. Append-only; the SAR names its valid one (``Sar.export``)."""

    sar = models.ForeignKey(Sar, on_delete=models.PROTECT, related_name="exports")
    created_at = models.DateTimeField(default=timezone.now)
    valid = models.BooleanField(default=False)
    errors = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder, help_text="[{path, message}]")
    xml = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    schema_path = models.CharField(max_length=500, blank=True)
    schema_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.CheckConstraint(condition=~Q(valid=True) | ~Q(sha256=""), name="sars_export_valid_has_file"),
        ]
        triggers = [pgtrigger.Protect(name="sars_export_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"export #{self.pk} of SAR {self.sar_id} ({'valid' if self.valid else 'failed'})"

    @property
    def file_name(self) -> str:
        return f"sar-{self.sar_id}-export-{self.pk}.xml"
