"""Screening's work queue on the start page (apps.core.workqueues), registered from ``ScreeningConfig.ready``:
the open hits waiting for a compliance decision, for the roles that review them (nobody else learns they exist)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.core.workqueues import register_queue
from apps.screening.models import HitState, ScreeningHit


def open_hits(user: Any) -> QuerySet[ScreeningHit]:
    return ScreeningHit.objects.filter(state=HitState.OPEN)


def register() -> None:
    register_queue(
        "screening.open_hits",
        "Screening hits to review",
        count=open_hits,
        url="admin:screening_screeninghit_changelist?state=open",
        permission="screening.review_screeninghit",
        section="AML cases",
        help="Names that matched a watchlist: confirm (a sanctions case opens, the account is suspended) or mark "
        "as a false positive.",
        order=45,
    )
