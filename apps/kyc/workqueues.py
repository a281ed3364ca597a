"""KYC's work queues on the start page (apps.core.workqueues), registered from ``KycConfig.ready``.

"KYC reviews waiting" counts an officer's own and their teams' open reviews (kyc_review_assignee_idx serves the
first; a team's are few); "Overdue KYC reviews" counts every overdue open review for a lead (kyc_review_queue_idx,
a range on due_at). Both are counted capped, as every queue is.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.workqueues import register_queue
from apps.kyc import reviews
from apps.kyc.models import Review

QUEUE = "admin:kyc_review_changelist"
SECTION = "Identity verification"


def reviews_waiting(user: Any) -> QuerySet[Review]:
    mine = Q(assignee_id=user.pk)
    teams = reviews.team_ids(user)
    if teams:
        mine |= Q(assignee__isnull=True, team_id__in=teams)
    return Review.objects.filter(mine, state=Review.State.OPEN)


def reviews_overdue(user: Any) -> QuerySet[Review]:
    return Review.objects.filter(state=Review.State.OPEN, due_at__lte=timezone.now())


def register() -> None:
    register_queue(
        "kyc.reviews_waiting",
        "KYC reviews waiting",
        count=reviews_waiting,
        url=f"{QUEUE}?assignee=me",
        permission=reviews.CLAIM,
        section=SECTION,
        help="Documents assigned to you or your team, due first at the top: or press Next review in the queue.",
        order=30,
    )
    register_queue(
        "kyc.reviews_overdue",
        "Overdue KYC reviews",
        count=reviews_overdue,
        url=f"{QUEUE}?sla=overdue",
        permission=(reviews.VIEW_ALL, reviews.ASSIGN),
        section=SECTION,
        help="Past their SLA, whoever holds them: reassign or take them.",
        order=31,
    )
