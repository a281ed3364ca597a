"""The player page's KYC section (apps.players.page.register_section, from KycConfig.ready): the level, open
requirements (what they restrict, by when), documents with their states, recent decisions, duplicate hits (the
same document on other accounts: both pages show it), the open review, and the officer's upload form."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from apps.kyc import reviews
from apps.kyc.admin.files import UploadForm
from apps.kyc.admin.review_page import reason_text_for
from apps.kyc.choices import Level, RequirementState
from apps.kyc.documents import duplicate_hits
from apps.kyc.models import DocumentDecision, KycProfile, Requirement, Review


def player_kyc_section(request: HttpRequest, player: Any) -> dict[str, Any] | None:
    user = request.user
    if not user.has_perm("kyc.view_kycprofile"):
        return None
    now = timezone.now()
    level = KycProfile.objects.filter(player=player).values_list("level", flat=True).first() or 0
    requirements = []
    if user.has_perm("kyc.view_requirement"):
        for r in Requirement.objects.filter(player=player, state=RequirementState.OPEN).order_by("due_at"):
            requirements.append(
                {
                    "requirement": r,
                    "overdue": r.due_at <= now,
                    "restricts": [reason_text_for(a) for a in r.restricts],
                    "restricts_when_overdue": [reason_text_for(a) for a in r.restricts_when_overdue],
                }
            )
    review = Review.objects.filter(player=player, state=Review.State.OPEN).select_related("assignee", "team").first()
    sees_documents = user.has_perm("kyc.view_document")
    return {
        "level": level,
        "level_label": Level(level).label,
        "requirements": requirements,
        "documents": list(player.kyc_documents.order_by("-uploaded_at")[:20]) if sees_documents else None,
        "decisions": list(
            DocumentDecision.objects.filter(document__player=player)
            .select_related("document", "decided_by", "second_officer")
            .order_by("-at")[:10]
        )
        if sees_documents
        else None,
        "duplicates": list(duplicate_hits(player)[:20]) if sees_documents else None,
        "review": review,
        "review_url": reverse("admin:kyc_review_change", args=[review.pk])
        if review is not None and reviews.review_visible(user, review)
        else None,
        "upload_form": UploadForm(auto_id="kyc-upload-%s") if user.has_perm("kyc.add_document") else None,
        "upload_url": reverse("admin:kyc_document_upload", args=[player.pk]),
    }
