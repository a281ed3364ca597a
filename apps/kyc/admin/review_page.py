"""The review page: each pending document's preview beside what the player declared, the check list, what the
officer reads off the document, and the three decisions (each a POST through ``document_decide``); the player's
open requirements, earlier documents with their decisions, duplicate hits, and the second officer's decision on a
level-3 approval (``approval_decide``, as in the Approvals inbox)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from apps.approvals import selectors as approvals_selectors
from apps.approvals.models import Approval
from apps.approvals.services import approval_decide
from apps.core.errors import ApplicationError
from apps.kyc import documents, reviews
from apps.kyc.choices import (
    ADDRESS_DOCUMENTS,
    FUNDS_DOCUMENTS,
    IDENTITY_DOCUMENTS,
    NUMBERED_DOCUMENTS,
    Decision,
    DocumentState,
    DocumentType,
    RejectionReason,
    RequirementState,
)
from apps.kyc.models import Document, Requirement, Review
from apps.players.page import reason_text
from apps.staff.models import staff_of
from apps.staff.permissions import can_act

# --- the check list -----------------------------------------------------------------------------------------
CHECKS = {
    "name": "The name matches the account",
    "birth_date": "The birth date matches the account",
    "photo": "The photo matches the person (the selfie, earlier documents)",
    "address": "The address matches the account, dated within the last 3 months",
    "valid": "The document is genuine, complete and in date",
}


def checks_for(document_type: str) -> list[str]:
    """What must be ticked before this type of document is approved (enforced by DecisionForm)."""
    if document_type in IDENTITY_DOCUMENTS:
        return ["name", "birth_date", "photo", "valid"]
    if document_type in ADDRESS_DOCUMENTS:
        return ["name", "address", "valid"]
    if document_type in FUNDS_DOCUMENTS:
        return ["name", "valid"]
    return ["photo"]  # a selfie


FIELD_CLASS = "border border-base-200 rounded-default px-3 py-2 w-full bg-white dark:bg-base-900"

# What a refusal means for the officer, by its code (the service's own message follows).
REFUSALS = {
    "review_not_permitted": "This review is not assigned to you or your team: ask a KYC lead to assign it to you.",
    "document_not_pending": "This document was already decided, or waits for a second officer.",
    "document_invalid": "What you read off the document is not valid: correct the fields marked below.",
    "document_expired": "The document has expired: reject it with the reason “The document has expired”.",
    "rejection_reason_required": "Choose the reason for the rejection (the player is told it).",
    "revision_message_required": "Write what the player must send again (the player reads it).",
    "approval_pending": "An approval of this document already waits for a second officer.",
    "approval_not_pending": "This level-3 request was already decided.",
    "approval_not_permitted": "Only a KYC lead (the second approval of level 3) may decide this.",
    "same_approver": "You asked for this level-3 approval: a second, different officer must decide it.",
    "reason_required": "Give the reason for refusing the level-3 approval (the first officer reads it).",
}


def refusal_text(exc: ApplicationError) -> str:
    lead = REFUSALS.get(exc.code, "")
    return f"{lead} ({exc.message})" if lead and exc.message and exc.message not in lead else lead or exc.message


class DecisionForm(forms.Form):
    """One document's decision. The ticks an approval needs are enforced here, on the server, whatever the
    page sent; the service checks the rest (the reviewer's right, the state, the facts, level 3)."""

    decision = forms.ChoiceField(
        choices=[(Decision.APPROVE, "Approve"), (Decision.REJECT, "Reject"), (Decision.REQUEST_REVISION, "Revision")]
    )
    checks = forms.MultipleChoiceField(
        choices=list(CHECKS.items()), required=False, widget=forms.CheckboxSelectMultiple
    )
    issuing_country = forms.CharField(required=False, max_length=2, label="Issuing country (ISO, 2 letters)")
    expires_on = forms.DateField(
        required=False, label="Expiry date", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    number = forms.CharField(required=False, max_length=64, label="Document number")
    reason_code = forms.ChoiceField(
        choices=[("", "— choose a reason —"), *RejectionReason.choices], required=False, label="Rejection reason"
    )
    message = forms.CharField(
        required=False, max_length=1000, label="Message to the player", widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, document: Document, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"d{document.pk}")
        kwargs.setdefault(
            "initial",
            {
                "issuing_country": document.issuing_country,
                "expires_on": document.expires_on,
                "number": document.number or "",
            },
        )
        kwargs.setdefault("auto_id", f"d{document.pk}-%s")
        super().__init__(*args, **kwargs)
        self.document = document
        self.required_checks = checks_for(document.type)
        self.fields["checks"].choices = [(c, CHECKS[c]) for c in self.required_checks]  # type: ignore[attr-defined]
        if document.type not in NUMBERED_DOCUMENTS:
            del self.fields["number"]
        if document.type not in IDENTITY_DOCUMENTS:
            self.fields["expires_on"].label = "Expiry date (if it has one)"
        for name in ("issuing_country", "expires_on", "number", "reason_code", "message"):
            if name in self.fields:
                self.fields[name].widget.attrs["class"] = FIELD_CLASS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        decision = data.get("decision")
        if decision == Decision.APPROVE:
            missing = [CHECKS[c] for c in self.required_checks if c not in (data.get("checks") or [])]
            if missing and len(missing) == len(self.required_checks):
                self.add_error("checks", "Tick every check before approving: none is ticked.")
            elif missing:
                self.add_error("checks", "Tick every check before approving. Not ticked: " + "; ".join(missing) + ".")
        elif decision == Decision.REJECT and not data.get("reason_code"):
            self.add_error("reason_code", "Choose the reason for the rejection.")
        elif decision == Decision.REQUEST_REVISION and not (data.get("message") or "").strip():
            self.add_error("message", "Write what the player must send again.")
        return data


# --- reading -----------------------------------------------------------------------------------------------------


def review_or_404(request: HttpRequest, object_id: Any) -> Review:
    """The review if the member may see it; a plain 404 otherwise (never a 403 that confirms it exists)."""
    if not str(object_id).isdigit():
        raise Http404("No such review.")
    review = Review.objects.select_related("player", "assignee", "team", "requirement").filter(pk=object_id).first()
    if review is None or not reviews.review_visible(request.user, review):
        raise Http404("No such review.")
    return review


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _requirements(player: Any, now: Any) -> list[dict[str, Any]]:
    rows = []
    for r in Requirement.objects.filter(player=player, state=RequirementState.OPEN).order_by("due_at"):
        rows.append(
            {
                "requirement": r,
                "overdue": r.due_at <= now,
                "restricts": [reason_text_for(a) for a in r.restricts],
                "restricts_when_overdue": [reason_text_for(a) for a in r.restricts_when_overdue],
            }
        )
    return rows


ACTION_WORDS = {"deposit": "deposits", "bet": "bets", "game_launch": "game launches", "withdraw": "withdrawals"}


def reason_text_for(action: str) -> str:
    return ACTION_WORDS.get(action, action.replace("_", " "))


def context(model_admin: Any, request: HttpRequest, review: Review, bound: dict[int, DecisionForm]) -> dict[str, Any]:
    user, now, player = request.user, timezone.now(), review.player
    pending = list(review.documents.filter(state=DocumentState.PENDING).order_by("uploaded_at", "id"))
    waiting = {
        a.target_id: a
        for a in Approval.objects.filter(
            kind=documents.LEVEL_3_KIND, state="pending", target_id__in=[str(d.pk) for d in pending]
        ).select_related("maker")
    }
    may_decide = can_act(user, reviews.DECIDE, review)
    may_view_files = bool(user.has_perm("kyc.view_document"))
    cards = []
    for document in pending:
        approval = waiting.get(str(document.pk))
        cards.append(
            {
                "document": document,
                "form": bound.get(document.pk) or DecisionForm(document=document),
                "approval": approval,
                "may_second": approval is not None and approvals_selectors.may_decide(user, approval),
                "duplicates": list(documents.duplicates_of(document)[:10]),
                "file_url": reverse("admin:kyc_document_file", args=[document.pk]),
            }
        )
    earlier = (
        player.kyc_documents.exclude(pk__in=[d.pk for d in pending])
        .prefetch_related("decisions__decided_by", "decisions__second_officer")
        .order_by("-uploaded_at")[:30]
    )
    sla = reviews.sla_state(review, now)
    return {
        **model_admin.admin_site.each_context(request),
        "opts": Review._meta,
        "title": f"KYC review #{review.pk}: {player.first_name} {player.last_name}",
        "review": review,
        "player": player,
        "age": _age(player.date_of_birth, timezone.localdate()),
        "sla": sla,
        "sla_label": reviews.SLA_LABELS[sla],
        "level": documents._current_level(player),
        "cards": cards,
        "earlier": list(earlier),
        "duplicates": list(documents.duplicate_hits(player)[:20]),
        "requirements": _requirements(player, now),
        "may_decide": may_decide,
        "may_view_files": may_view_files,
        "may_claim": user.has_perm(reviews.CLAIM),
        "may_assign": user.has_perm(reviews.ASSIGN),
        "type_labels": dict(DocumentType.choices),
        "reason_labels": dict(RejectionReason.choices),
        "reason_text": reason_text,
        "queue_url": reverse("admin:kyc_review_changelist"),
        "next_url": reverse("admin:kyc_review_next"),
    }


def render(
    model_admin: Any, request: HttpRequest, review: Review, bound: dict[int, DecisionForm] | None = None
) -> HttpResponse:
    return TemplateResponse(request, "admin/kyc/review_change.html", context(model_admin, request, review, bound or {}))


# --- decisions ---------------------------------------------------------------------------------------------------


def decide(model_admin: Any, request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    review = review_or_404(request, pk)
    page = HttpResponseRedirect(reverse("admin:kyc_review_change", args=[review.pk]))
    if request.method != "POST":
        return page
    document = get_object_or_404(Document, pk=document_pk, review=review)
    form = DecisionForm(request.POST, document=document)
    if not form.is_valid():
        messages.error(request, f"{document.get_type_display()}: nothing was decided. Correct the form below.")
        return render(model_admin, request, review, {document.pk: form})
    data = form.cleaned_data
    decision = data["decision"]
    try:
        decided = documents.document_decide(
            actor=staff_of(request),  # type: ignore[arg-type]
            document=document,
            decision=decision,
            reason_code=data.get("reason_code") or "",
            message=data.get("message") or "",
            issuing_country=data.get("issuing_country") if decision == Decision.APPROVE else None,
            expires_on=data.get("expires_on") if decision == Decision.APPROVE else None,
            number=data.get("number") if decision == Decision.APPROVE and "number" in form.fields else None,
        )
    except ApplicationError as exc:
        form.add_error(None, refusal_text(exc))
        for field, errors in (exc.fields or {}).items():
            if field in form.fields and field != "reason_code":
                form.add_error(field, " ".join(str(e) for e in errors))
        messages.error(request, f"{document.get_type_display()}: nothing was decided. {refusal_text(exc)}")
        return render(model_admin, request, review, {document.pk: form})
    name = document.get_type_display()
    if decided.state == DocumentState.PENDING:
        messages.warning(request, f"{name}: approved by you. Level 3 now waits for a second officer (a KYC lead).")
    elif decided.state == DocumentState.APPROVED:
        level = documents._current_level(document.player)
        messages.success(request, f"{name} approved. The player's verification level is now {level}.")
    elif decided.state == DocumentState.REJECTED:
        messages.success(request, f"{name} rejected ({decided.get_rejection_reason_display()}); the player is told.")
    else:
        messages.success(request, f"{name}: a revision was requested; the player is told what to send.")
    return page


def second(model_admin: Any, request: HttpRequest, pk: int, approval_pk: int) -> HttpResponse:
    """The second officer's decision on a level-3 approval, from the review page (the inbox takes the same one)."""
    review = review_or_404(request, pk)
    page = HttpResponseRedirect(reverse("admin:kyc_review_change", args=[review.pk]))
    if request.method != "POST":
        return page
    approval = get_object_or_404(Approval, pk=approval_pk, kind=documents.LEVEL_3_KIND)
    if not review.documents.filter(pk=approval.target_id).exists():
        raise Http404("No such approval on this review.")
    approve = request.POST.get("approve") == "1"
    try:
        approval_decide(
            actor=staff_of(request), approval=approval, approve=approve, reason=request.POST.get("reason", "")
        )  # type: ignore[arg-type]
    except ApplicationError as exc:
        messages.error(request, f"Level 3: nothing was decided. {refusal_text(exc)}")
    else:
        if approve:
            messages.success(
                request, "Level 3 approved as the second officer: the player is at enhanced due diligence."
            )
        else:
            messages.success(request, "Level 3 refused: the document is back with the first officer, still pending.")
    return page


def next_view(request: HttpRequest) -> HttpResponse:
    """The "Next review" button (POST): the member's next review, assigned to them; the queue if none waits."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:kyc_review_changelist"))
    if not request.user.has_perm(reviews.CLAIM):
        raise PermissionDenied
    try:
        review = reviews.review_next(actor=staff_of(request))  # type: ignore[arg-type]
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("admin:kyc_review_changelist"))
    if review is None:
        messages.info(request, "No review is waiting for you: the queue is clear.")
        return HttpResponseRedirect(reverse("admin:kyc_review_changelist"))
    return HttpResponseRedirect(reverse("admin:kyc_review_change", args=[review.pk]))
