"""Compliance's work queues on the start page (apps.core.workqueues), registered from ``ComplianceConfig.ready``.

Only holders of ``compliance.view_case`` are counted anything (the wall: a queue never shows to, nor is counted
for, anyone else). "My cases" reads compliance_case_assignee_idx; "Unassigned cases in my inbox" the inbox index
(an analyst's teams' inboxes, every inbox for the MLRO); "Cases at risk" is for the MLRO and the inboxes' leads,
"Breached cases" for the MLRO (compliance_case_open_idx serves both: open states by due time); "Confirmed
closings to approve" counts the compliance.case_confirm requests a member with ``approve_case_closing`` may
decide (not their own). Every count is capped, as every queue's is.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.compliance import cases
from apps.compliance.choices import OPEN_STATES, SlaState
from apps.compliance.models import Case, CaseInbox
from apps.core.workqueues import register_queue

INBOX = "admin:compliance_case_changelist"
SECTION = "AML cases"


def my_cases(user: Any) -> QuerySet[Case]:
    return Case.objects.filter(assignee_id=user.pk, state__in=OPEN_STATES)


def unassigned_in_my_inbox(user: Any) -> QuerySet[Case] | None:
    open_unassigned = Case.objects.filter(assignee__isnull=True, state__in=OPEN_STATES)
    if cases.is_lead(user):
        return open_unassigned
    teams = cases.team_ids(user)
    return open_unassigned.filter(inbox__team_id__in=teams) if teams else None


def at_risk(user: Any) -> QuerySet[Case] | None:
    """The MLRO: every case at risk; an inbox's lead: their inboxes'; anyone else: not their queue."""
    risky = Case.objects.filter(state__in=OPEN_STATES, sla_state=SlaState.AT_RISK)
    if cases.is_lead(user):
        return risky
    led = list(CaseInbox.objects.filter(lead_id=user.pk).values_list("pk", flat=True))
    return risky.filter(inbox_id__in=led) if led else None


def breached(user: Any) -> QuerySet[Case]:
    return Case.objects.filter(state__in=OPEN_STATES, sla_state=SlaState.BREACHED)


def closings_to_approve(user: Any) -> QuerySet[Any]:
    from apps.approvals.models import Approval

    return Approval.objects.filter(kind=cases.CONFIRM_KIND, state="pending").exclude(maker_id=user.pk)


def register() -> None:
    register_queue(
        "compliance.my_cases",
        "My cases",
        count=my_cases,
        url=f"{INBOX}?assignee=me",
        permission=cases.VIEW,
        section=SECTION,
        help="Open cases assigned to you, due first.",
        order=40,
    )
    register_queue(
        "compliance.unassigned",
        "Unassigned cases in my inbox",
        count=unassigned_in_my_inbox,
        url=f"{INBOX}?assignee=unassigned",
        permission=cases.VIEW,
        section=SECTION,
        help="Nobody holds them: start one to take it.",
        order=41,
    )
    register_queue(
        "compliance.at_risk",
        "Cases at risk",
        count=at_risk,
        url=f"{INBOX}?sla={SlaState.AT_RISK}",
        permission=cases.VIEW,
        section=SECTION,
        help="Most of their working time is used: reassign, escalate or help.",
        order=42,
    )
    register_queue(
        "compliance.breached",
        "Breached cases",
        count=breached,
        url=f"{INBOX}?sla={SlaState.BREACHED}",
        permission=(cases.VIEW, cases.VIEW_ALL),
        section=SECTION,
        help="Past their SLA: escalated to you.",
        order=43,
    )
    register_queue(
        "compliance.closings_to_approve",
        "Confirmed closings to approve",
        count=closings_to_approve,
        url=f"admin:approvals_approval_changelist?kind={cases.CONFIRM_KIND}",
        permission=(cases.VIEW, cases.APPROVE_CLOSING),
        section=SECTION,
        help="Cases an analyst closed as confirmed: the second person decides.",
        order=44,
    )
