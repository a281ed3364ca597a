"""The SAR screens, for holders of ``sars.view_sar`` only (the MLRO): the list of reports, drafting one from a
case, the report's page (its content, the approval, each export with its errors by path, filing, correcting)
and the audited download of the valid file. Every write goes through apps/sars/services. Nothing of it
answers anyone else: the menu has no entry, the list is 403, a report's page and file are 404 (the tipping-off
wall), and reading a report or its file is an audit event."""

from __future__ import annotations

from apps.sars.admin.reports import SarAdmin

__all__ = ["SarAdmin"]
