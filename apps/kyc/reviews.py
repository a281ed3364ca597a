"""The review queue: who sees a review, who decides it, and how work is handed out.

A review is decided by whoever holds ``kyc.decide_review`` on it: role-wide (a lead) or as a django-guardian grant
to the assignee or their team, written here, in the transaction that sets ``assignee``/``team`` and the audit
event, and taken back on reassignment. The queue reads the two columns (indexed, no join to guardian's tables at
100,000 open reviews); ``document_decide`` checks the grant. Both are written only here, so they say the same.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from apps.approvals.choices import ApprovalState
from apps.approvals.models import Approval
from apps.audit.services import audit_log
from apps.kyc.choices import DocumentState
from apps.kyc.errors import ReviewAssigneeInvalid, ReviewAssignNotPermitted, ReviewClosed
from apps.kyc.models import Document, Review
from apps.staff.models import StaffUser
from apps.staff.permissions import can_act

DECIDE = "kyc.decide_review"
VIEW_ALL = "kyc.view_all_reviews"
ASSIGN = "kyc.assign_review"
CLAIM = "kyc.claim_review"
LEVEL_3_KIND = "kyc.level_3"


# --- who sees what ----------------------------------------------------------------------------------------------


def team_ids(user: Any) -> list[int]:
    """The member's groups (teams and roles alike; a review is only ever assigned to a team). Kept on the user
    object for the request, as Django keeps its permission cache."""
    cached: list[int] | None = getattr(user, "_kyc_team_ids", None)
    if cached is None:
        cached = list(user.groups.values_list("pk", flat=True))
        user._kyc_team_ids = cached
    return cached


def is_lead(user: Any) -> bool:
    return can_act(user, VIEW_ALL)


def reviews_visible_to(user: Any, queryset: QuerySet[Review] | None = None) -> QuerySet[Review]:
    """A lead sees every review; a member with ``kyc.view_review`` those assigned to them or to one of their
    teams; anyone else none. Plain column tests (``assignee_id = …`` / ``team_id IN (…)``): no DISTINCT, no join."""
    queryset = Review.objects.all() if queryset is None else queryset
    if user is None or not getattr(user, "is_active", False) or not user.has_perm("kyc.view_review"):
        return queryset.none()
    if is_lead(user):
        return queryset
    mine = Q(assignee_id=user.pk)
    teams = team_ids(user)
    if teams:
        mine |= Q(team_id__in=teams)
    return queryset.filter(mine)


def review_visible(user: Any, review: Review) -> bool:
    if user is None or not getattr(user, "is_active", False) or not user.has_perm("kyc.view_review"):
        return False
    return (
        is_lead(user)
        or review.assignee_id == user.pk
        or (review.team_id is not None and review.team_id in team_ids(user))
        or can_act(user, DECIDE, review)
    )


# --- the SLA badge ------------------------------------------------------------------------------------------------

DUE, AT_RISK, OVERDUE = "due", "at_risk", "overdue"
SLA_LABELS = {DUE: "Due", AT_RISK: "At risk", OVERDUE: "Overdue"}


def at_risk_fraction() -> float:
    return float(getattr(settings, "KYC_REVIEW_AT_RISK_FRACTION", 0.25))


def sla_state(review: Review, now: datetime | None = None) -> str:
    """Overdue past ``due_at``; at risk once less than KYC_REVIEW_AT_RISK_FRACTION (a quarter) of the time from
    opening to due is left; otherwise due."""
    now = now or timezone.now()
    if review.due_at <= now:
        return OVERDUE
    span = max((review.due_at - review.created_at).total_seconds(), 1.0)
    return AT_RISK if (review.due_at - now).total_seconds() < at_risk_fraction() * span else DUE


def at_risk_q(now: datetime) -> Q:
    """Reviews at risk, for a filter: due within the fraction of the SLA (KYC_REVIEW_SLA_HOURS) from now. An
    approximation of ``sla_state`` (which uses each review's own span) that the due-date index serves."""
    window = timedelta(hours=settings.KYC_REVIEW_SLA_HOURS * at_risk_fraction())
    return Q(due_at__gt=now, due_at__lte=now + window)


# --- assignment ---------------------------------------------------------------------------------------------------


def _may_review(user: StaffUser) -> bool:
    return bool(user.is_active and user.has_perm("kyc.view_document") and user.has_perm("kyc.view_review"))


def _grant(review: Review, assignee: StaffUser | None, team: Group | None) -> None:
    if review.assignee_id is not None:
        remove_perm(DECIDE, StaffUser.objects.get(pk=review.assignee_id), review)
    if review.team_id is not None:
        remove_perm(DECIDE, Group.objects.get(pk=review.team_id), review)
    if assignee is not None:
        assign_perm(DECIDE, assignee, review)
    if team is not None:
        assign_perm(DECIDE, team, review)


@transaction.atomic
def review_assign(
    *, actor: StaffUser, review: Review, assignee: StaffUser | None = None, team: Group | None = None
) -> Review:
    """Assign an open review to a member and/or a team (both None: back to the queue, unassigned). Grants them
    ``kyc.decide_review`` on the review and takes it back from whoever had it; audited (``kyc.review_assigned``).
    Needs ``kyc.assign_review``. The assignee must be able to review documents (``kyc.view_document``)."""
    if not can_act(actor, ASSIGN):
        raise ReviewAssignNotPermitted("You may not assign KYC reviews.", fields={"permission": [ASSIGN]})
    if assignee is not None:
        assignee = StaffUser.objects.get(pk=assignee.pk)  # fresh permissions
        if not _may_review(assignee):
            raise ReviewAssigneeInvalid(
                f"{assignee} cannot review KYC documents (an active KYC Officer or lead is needed).",
                fields={"assignee": ["Not a KYC reviewer."]},
            )
    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.state != Review.State.OPEN:
        raise ReviewClosed(f"KYC review #{review.pk} is closed: there is nothing left to assign.")
    return _assign(actor, review, assignee, team, how="assigned")


def _assign(actor: StaffUser, review: Review, assignee: StaffUser | None, team: Group | None, *, how: str) -> Review:
    before = {
        "assignee": review.assignee.get_username() if review.assignee_id and review.assignee else None,
        "team": review.team.name if review.team_id and review.team else None,
    }
    _grant(review, assignee, team)
    review.assignee, review.team = assignee, team
    review.save(update_fields=["assignee", "team"])
    audit_log(
        actor=actor,
        action="kyc.review_assigned",
        target=review.player,
        data={
            "review": review.pk,
            "assignee": assignee.get_username() if assignee else None,
            "team": team.name if team else None,
            "before": before,
            "how": how,
        },
    )
    return review


def _decidable_documents() -> QuerySet[Document]:
    """Pending documents of the outer review that are not waiting for a second officer."""
    waiting = Approval.objects.filter(
        kind=LEVEL_3_KIND, state=ApprovalState.PENDING, target_id=Cast(OuterRef("pk"), CharField())
    )
    return Document.objects.filter(review_id=OuterRef(OuterRef("pk")), state=DocumentState.PENDING).exclude(
        Exists(waiting)
    )


@transaction.atomic
def review_next(*, actor: StaffUser) -> Review | None:
    """The "Next review" button: the member's own open review due first, else the oldest-due one nobody (or only
    their team) holds, assigned to them. Reviews whose every document waits for a second officer are skipped.
    Two officers pressing at once get two different reviews: the candidate rows are locked with SKIP LOCKED, so
    the second takes the next one instead of waiting for (and then re-taking) the first. None: nothing waits."""
    if not can_act(actor, CLAIM):
        raise ReviewAssignNotPermitted("You may not take reviews from the KYC queue.", fields={"permission": [CLAIM]})
    mine_or_free = Q(assignee_id=actor.pk) | Q(assignee__isnull=True, team__isnull=True)
    teams = team_ids(actor)
    if teams:
        mine_or_free |= Q(assignee__isnull=True, team_id__in=teams)
    review = (
        Review.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(mine_or_free, state=Review.State.OPEN)
        .filter(Exists(_decidable_documents()))
        .order_by("due_at", "id")
        .select_related("assignee", "team", "player")
        .first()
    )
    if review is None or review.assignee_id == actor.pk:
        return review
    return _assign(actor, review, actor, review.team, how="next review")
