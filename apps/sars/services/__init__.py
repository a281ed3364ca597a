"""SARs: who sees them, drafting from a case, the second person's approval, the export, filing and correcting. The
only writer of ``Sar`` and ``SarExport``.

The life of a report::

    draft ──submit──▶ pending_approval ──a second person approves──▶ approved ──export──▶ ready ──file──▶ filed
      ▲                    │ rejected                                   │  ▲                              │
      └────────────────────┘                                            ▼  │ retry                        ▼
      └──────────────reopen (to change the content)────────────── export_failed            correction (a new draft)

Who: ``sars.view_sar`` sees SARs (every view and download is audited); ``sars.draft_sar`` drafts, edits, submits,
reopens and files (the MLRO), from a case they may see (apps.compliance.cases.case_visible); ``sars.approve_sar``
approves, never their own (maker-checker through apps.approvals, kind ``sars.sar_approve``). Everyone else is
told "not found" (the tipping-off wall), and every audit event says ``visibility: compliance``.

Side effects: each service writes one audit event per change in its transaction; approval enqueues the export
task after commit (apps/sars/tasks.py), which calls :func:`sar_export`.
"""

from __future__ import annotations

from apps.sars.services.base import (
    APPROVE,
    APPROVE_KIND,
    DRAFT,
    TEXT_MAX,
    VIEW,
    sar_get,
    sar_list_viewed,
    sar_viewed,
    sars_visible_to,
    sees_sars,
)
from apps.sars.services.drafts import linked_reportable, register, sar_draft, sar_reopen, sar_submit, sar_update
from apps.sars.services.filing import sar_correct, sar_download, sar_export, sar_export_retry, sar_file

__all__ = [
    "APPROVE",
    "APPROVE_KIND",
    "DRAFT",
    "TEXT_MAX",
    "VIEW",
    "linked_reportable",
    "register",
    "sar_correct",
    "sar_download",
    "sar_draft",
    "sar_export",
    "sar_export_retry",
    "sar_file",
    "sar_get",
    "sar_list_viewed",
    "sar_reopen",
    "sar_submit",
    "sar_update",
    "sar_viewed",
    "sars_visible_to",
    "sees_sars",
]
