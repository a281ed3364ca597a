"""Reads of the approvals: the pending request of a target, the rows a staff member's inbox shows."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet

from apps.approvals.choices import ApprovalState
from apps.approvals.models import Approval
from apps.approvals.registry import kinds


def for_target(target: Model, *, kind: str | None = None) -> QuerySet[Approval]:
    target_ct = ContentType.objects.get_for_model(target, for_concrete_model=True)
    rows = Approval.objects.filter(target_ct=target_ct, target_id=str(target.pk))
    return rows.filter(kind=kind) if kind else rows


def pending_for(target: Model, *, kind: str | None = None) -> Approval | None:
    return for_target(target, kind=kind).filter(state=ApprovalState.PENDING).first()


def kinds_visible_to(user: Any) -> list[str]:
    """The kinds a staff member asks for or decides: their inbox shows those (and their own requests)."""
    return [k.code for k in kinds() if user.has_perm(k.decide_permission) or user.has_perm(k.request_permission)]


def kinds_decidable_by(user: Any) -> list[str]:
    return [k.code for k in kinds() if user.has_perm(k.decide_permission)]


def inbox_for(user: Any, queryset: QuerySet[Approval]) -> QuerySet[Approval]:
    return queryset.filter(Q(kind__in=kinds_visible_to(user)) | Q(maker_id=user.pk))


def may_decide(user: Any, approval: Approval) -> bool:
    """Whether to offer the decision buttons (the service re-checks all of it)."""
    return (
        approval.state == ApprovalState.PENDING
        and approval.maker_id != user.pk
        and approval.kind in kinds_decidable_by(user)
    )


def pending_to_decide(user: Any, kind: str) -> QuerySet[Approval]:
    """The pending requests of a kind that ``user`` could decide: everyone's but their own (a maker never checks).
    Served by the partial unique index approvals_one_pending_per_target (kind, ...) WHERE state = 'pending'."""
    return Approval.objects.filter(state=ApprovalState.PENDING, kind=kind).exclude(maker_id=user.pk)


def inbox_url(kind: str) -> str:
    """The Approvals inbox filtered to the pending requests of a kind (a work-queue URL)."""
    return f"admin:approvals_approval_changelist?kind={kind}"
