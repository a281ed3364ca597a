"""The compliance screens (AML Analysts, the MLRO, and the configure permissions' holders): the case inbox and the
case page with its one-click forms, opening a case by hand, the rules with their versions, hits and alerts, and
the inboxes, SLA policies and analysts' statuses. Every write goes through apps.compliance's services; nothing of
it answers staff without a ``compliance.*`` permission (the tipping-off wall: 403 on the lists, 404 on a case)."""

from __future__ import annotations

from apps.compliance.admin.cases import CaseAdmin
from apps.compliance.admin.config import AnalystStatusAdmin, CaseInboxAdmin, SlaPolicyAdmin
from apps.compliance.admin.rules import AlertAdmin, RuleAdmin, RuleHitAdmin, RuleSnoozeAdmin, RuleVersionAdmin

__all__ = [
    "AlertAdmin",
    "AnalystStatusAdmin",
    "CaseAdmin",
    "CaseInboxAdmin",
    "RuleAdmin",
    "RuleHitAdmin",
    "RuleSnoozeAdmin",
    "RuleVersionAdmin",
    "SlaPolicyAdmin",
]
