"""Safer-gambling work queues on the start page (apps.core.workqueues), registered from ``ResponsibleConfig.ready``.

Lifts and corrections are approvals (the partial index on pending requests serves them); held identity edits
use rg_identity_change_pending_idx; limit flags rg_flag_kind_created_idx and register outages
rg_register_check_error_idx (responsible/0007).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.utils import timezone

from apps.approvals import selectors as approvals_selectors
from apps.approvals.models import Approval
from apps.core.workqueues import register_queue
from apps.responsible.choices import FlagKind, RegisterOutcome
from apps.responsible.models import Flag, IdentityChangeRequest, RegisterCheck

SECTION = "Safer gambling"
FLAG_DAYS = 7  # flags of the last week: a flag is a prompt to contact the player soon, not a case to close
OUTAGE_HOURS = 24


def lifts_to_decide(user: Any) -> QuerySet[Approval]:
    from apps.responsible.services.exclusions import LIFT_KIND

    return approvals_selectors.pending_to_decide(user, LIFT_KIND)


def corrections_to_decide(user: Any) -> QuerySet[Approval]:
    from apps.responsible.services.exclusions import CORRECTION_KIND

    return approvals_selectors.pending_to_decide(user, CORRECTION_KIND)


def identity_edits_to_decide(user: Any) -> QuerySet[IdentityChangeRequest]:
    return IdentityChangeRequest.objects.filter(approved=None).exclude(requested_by_id=user.pk)


def _since(delta: timedelta) -> datetime:
    """The window's start, to the minute: the count and its list's URL (built a moment apart) agree."""
    return (timezone.now() - delta).replace(second=0, microsecond=0)


def limit_flags(user: Any) -> QuerySet[Flag]:
    return Flag.objects.filter(kind=FlagKind.LIMIT_80, created_at__gte=_since(timedelta(days=FLAG_DAYS)))


def limit_flags_url(user: Any) -> str:
    since = _since(timedelta(days=FLAG_DAYS)).isoformat()
    return "admin:responsible_flag_changelist?" + urlencode(
        {"kind__exact": FlagKind.LIMIT_80, "created_at__gte": since}
    )


def register_outages(user: Any) -> QuerySet[RegisterCheck]:
    return RegisterCheck.objects.filter(outcome=RegisterOutcome.ERROR, at__gte=_since(timedelta(hours=OUTAGE_HOURS)))


def register_outages_url(user: Any) -> str:
    since = _since(timedelta(hours=OUTAGE_HOURS)).isoformat()
    return "admin:responsible_registercheck_changelist?" + urlencode(
        {"outcome__exact": RegisterOutcome.ERROR, "at__gte": since}
    )


def register() -> None:
    from apps.responsible.services.exclusions import CORRECTION_KIND, LIFT_KIND

    register_queue(
        "responsible.lifts_to_decide",
        "Exclusion lifts to decide",
        count=lifts_to_decide,
        url=approvals_selectors.inbox_url(LIFT_KIND),
        permission="responsible.decide_lift",
        section=SECTION,
        help="A colleague asked to lift an operator exclusion: you approve or refuse the lift.",
        order=20,
    )
    register_queue(
        "responsible.corrections_to_decide",
        "Exclusion corrections to decide",
        count=corrections_to_decide,
        url=approvals_selectors.inbox_url(CORRECTION_KIND),
        permission="responsible.correct_exclusion",
        section=SECTION,
        help="A colleague asked to correct a mistyped exclusion term: you apply or refuse it.",
        order=21,
    )
    register_queue(
        "responsible.identity_edits_to_decide",
        "Identity edits to decide",
        count=identity_edits_to_decide,
        url="admin:responsible_identitychangerequest_changelist?decision=pending",
        permission="responsible.decide_identity_change",
        section="Identity",
        help="Name or birth-date edits of an account an exclusion covers, held until you apply or refuse them.",
        order=30,
    )
    register_queue(
        "responsible.limit_flags",
        "Players at 80% of a limit",
        count=limit_flags,
        url=limit_flags_url,
        permission=("responsible.view_flag", "responsible.add_interaction"),
        section=SECTION,
        help=f"Flags of the last {FLAG_DAYS} days: contact the player and record the interaction.",
        order=22,
    )
    register_queue(
        "responsible.register_outages",
        "National register outages",
        count=register_outages,
        url=register_outages_url,
        permission=("responsible.view_registercheck", "geo.change_rulepack"),
        section="System health",
        help=f"Questions a self-exclusion register could not answer in the last {OUTAGE_HOURS} hours.",
        order=50,
    )
