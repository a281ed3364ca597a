"""Maker-checker: ask for a change, decide it (a different person, re-checked now), apply it in the same
transaction through the owning app's registered kind.

``approval_request`` records every request, also those below the threshold: those are applied at once and stay
as ``below_threshold`` rows, which is what the rolling total reads. A second person is needed when the kind has
no threshold (lifts, corrections), when the currency has no configured rate, or when the amount plus what went
through without a second person in the window (``APPROVAL_ROLLING_WINDOW_HOURS``) reaches the threshold:
twenty adjustments of 100.00 by one staff member for one player are checked once their total crosses it.
Amounts approved by a checker do not count again: a second person has seen them.

Side effects: ``approval_request`` and ``approval_decide`` call the kind's ``apply``/``on_reject`` (the owning
app's ledger postings, status changes, outbox events) and write ``approval.*`` audit events, all in the caller's
transaction. Concurrent requests in one rolling scope queue on a transaction-level advisory lock, so two of them
cannot both see the total below the threshold.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Model, Sum
from django.utils import timezone

from apps.approvals.choices import ApprovalState, RollingScope
from apps.approvals.errors import ApprovalNotPending, ApprovalNotPermitted, ApprovalPending
from apps.approvals.models import Approval
from apps.approvals.registry import ApprovalKind, kind_for, kinds
from apps.approvals.thresholds import threshold_eur, to_eur
from apps.audit.services import AuditActor, audit_log
from apps.core.errors import (
    ApplicationError,
    ReasonRequired,
    SameApprover,
    ValidationFailed,
)
from apps.staff.models import StaffUser
from apps.staff.permissions import can_act

log = structlog.get_logger(__name__)
ROLLING_LOCK_CLASS = 0x4150  # pg_advisory_xact_lock(class, key): "AP", apart from the audit chain's lock
# as apps.players.validation's rule for staff text: line breaks kept, every other control character refused
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _text(value: str, *, required: bool) -> str:
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL.search(value):
        raise ValidationFailed("The reason may not contain control characters.", fields={"reason": ["Control chars."]})
    if required and not value:
        raise ReasonRequired("A reason is required.", fields={"reason": ["Required."]})
    if len(value) > 500:
        raise ValidationFailed("The reason is too long.", fields={"reason": ["At most 500."]})
    return value


def _fresh(actor: StaffUser) -> StaffUser:
    """The staff member as the database says now: a role taken away since the page was loaded counts."""
    return StaffUser.objects.get(pk=actor.pk)


def _require(actor: StaffUser, permission: str, target: Model | None, what: str) -> None:
    if not can_act(actor, permission, target):
        raise ApprovalNotPermitted(
            f"You may not {what} this ({permission}).",
            fields={"permission": [permission]},
        )


def _rolling_total(
    kind: ApprovalKind, *, maker: StaffUser | None, player_id: int | None, now: Any, lock: bool
) -> Decimal:
    """What went through without a second person in the window, in EUR, for this kind's rolling scope. With
    ``lock`` (a request), concurrent requests in the same scope queue here until the first one commits."""
    per_maker = kind.rolling_scope == RollingScope.MAKER_AND_PLAYER
    if lock:
        key = f"{kind.code}:{maker.pk if per_maker and maker else '-'}:{player_id}"
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [ROLLING_LOCK_CLASS, key])
    rows = Approval.objects.filter(
        kind=kind.code,
        state=ApprovalState.BELOW_THRESHOLD,
        player_id=player_id,
        requested_at__gt=now - timedelta(hours=settings.APPROVAL_ROLLING_WINDOW_HOURS),
    )
    if per_maker:
        rows = rows.filter(maker=maker)
    return rows.aggregate(total=Sum("amount_eur"))["total"] or Decimal("0")


def needs_checker(
    kind: ApprovalKind,
    *,
    maker: StaffUser | None,
    player_id: int | None,
    amount: Decimal | None,
    currency: str,
    now: Any,
    lock: bool = True,
) -> tuple[bool, dict[str, Any]]:
    """Whether a second person must decide, and why (recorded in the audit event). ``lock=False`` previews it
    for a screen; a request always locks its rolling scope."""
    if kind.threshold_setting is None:
        return True, {"why": "always"}
    if amount is None:
        return True, {"why": "no amount"}
    amount_eur = to_eur(amount, currency)
    if amount_eur is None:
        return True, {"why": "no rate", "currency": currency}
    limit = threshold_eur(kind.threshold_setting)
    total = _rolling_total(kind, maker=maker, player_id=player_id, now=now, lock=lock) + amount_eur
    detail = {"why": "threshold", "rolling_total_eur": total, "threshold_eur": limit}
    return total >= limit, detail


@transaction.atomic
def approval_request(
    *,
    actor: StaffUser,
    kind: str,
    target: Model,
    reason: str,
    payload: dict[str, Any] | None = None,
    amount: Decimal | None = None,
    currency: str = "",
    player_id: int | None = None,
) -> Approval:
    """The maker asks. Below the threshold the change is applied at once (the row stays, ``below_threshold``);
    otherwise it waits, ``pending``, for a second person. The owning app has checked its own rules first."""
    spec = kind_for(kind)
    reason = _text(reason, required=True)
    maker = _fresh(actor)
    _require(maker, spec.request_permission, target, "ask for")
    target_ct = ContentType.objects.get_for_model(target, for_concrete_model=True)
    if Approval.objects.filter(
        kind=kind, target_ct=target_ct, target_id=str(target.pk), state=ApprovalState.PENDING
    ).exists():
        raise ApprovalPending("A request for this is already waiting for a decision.")
    now = timezone.now()
    needed, why = needs_checker(spec, maker=maker, player_id=player_id, amount=amount, currency=currency, now=now)
    approval = Approval.objects.create(
        kind=kind,
        payload=payload or {},
        target_ct=target_ct,
        target_id=str(target.pk),
        player_id=player_id,
        maker=maker,
        reason=reason,
        amount=amount,
        currency=currency,
        amount_eur=to_eur(amount, currency) if amount is not None else None,
        state=ApprovalState.PENDING if needed else ApprovalState.BELOW_THRESHOLD,
        requested_at=now,
        decided_at=None if needed else now,
    )
    if not needed:
        spec.apply(approval, actor)
    data = {"kind": kind, "target": approval.target_label, "amount": amount, "currency": currency, **why}
    audit_log(actor=actor, action="approval.requested", target=approval, data={**data, "needs_checker": needed})
    if not needed:
        audit_log(actor=actor, action="approval.applied", target=approval, data={"kind": kind, "checker": None})
    return approval


@transaction.atomic
def approval_decide(*, actor: StaffUser, approval: Approval, approve: bool, reason: str = "") -> Approval:
    """The checker decides: never the maker, holding the kind's decide permission now (re-read from the
    database). Approving applies the change; rejecting (a reason is required) lets the owning app undo its side.
    Two checkers at once: the row lock makes one wait, and it then finds the request decided."""
    approval = Approval.objects.select_for_update().get(pk=approval.pk)
    if approval.state != ApprovalState.PENDING:
        raise ApprovalNotPending(f"This request is {approval.get_state_display().lower()}.")
    if approval.maker_id == actor.pk:
        raise SameApprover("A second, different staff member must decide.")
    spec = kind_for(approval.kind)
    checker = _fresh(actor)
    _require(checker, spec.decide_permission, approval.target(), "decide")
    decision_reason = _text(reason, required=not approve)
    approval.state = ApprovalState.APPROVED if approve else ApprovalState.REJECTED
    approval.checker, approval.decided_at, approval.decision_reason = checker, timezone.now(), decision_reason
    approval.save(update_fields=["state", "checker", "decided_at", "decision_reason"])
    (spec.apply if approve else spec.on_reject)(approval, actor)
    audit_log(
        actor=actor,
        action="approval.approved" if approve else "approval.rejected",
        target=approval,
        data={"kind": approval.kind, "target": approval.target_label, "reason": decision_reason},
    )
    if approve:
        audit_log(actor=actor, action="approval.applied", target=approval, data={"kind": approval.kind})
    return approval


@transaction.atomic
def approvals_close_for(*, actor: AuditActor | None, target: Model, reason: str, kind: str | None = None) -> int:
    """The owning app settled the target another way (a withdrawal cancelled by the player or rejected as a
    whole): its pending requests are cancelled. Only the owning app's service calls this, after its own checks."""
    target_ct = ContentType.objects.get_for_model(target, for_concrete_model=True)
    pending = Approval.objects.select_for_update().filter(
        target_ct=target_ct, target_id=str(target.pk), state=ApprovalState.PENDING
    )
    if kind is not None:
        pending = pending.filter(kind=kind)
    closed = 0
    for approval in pending:
        approval.state, approval.decided_at = ApprovalState.CANCELLED, timezone.now()
        approval.decision_reason = _text(reason, required=True)
        approval.save(update_fields=["state", "decided_at", "decision_reason"])
        audit_log(
            actor=actor,
            action="approval.cancelled",
            target=approval,
            data={"kind": approval.kind, "target": approval.target_label, "reason": approval.decision_reason},
        )
        closed += 1
    return closed


def approvals_expire(*, actor: AuditActor, now: datetime | None = None, batch: int = 200) -> dict[str, int]:
    """Requests nobody decided within ``APPROVAL_PENDING_EXPIRY_HOURS`` expire: each in its own transaction,
    the owning app's ``on_expire`` first (an adjustment is rejected, a withdrawal's first approval withdrawn, a
    lift request cleared, a correction refused), then ``approval.expired`` in the trail. A row the owning app
    refuses to expire (its target moved on) stays pending and is counted as skipped; a row another process is
    deciding right now is left to it (SKIP LOCKED). Kinds without ``on_expire`` never expire. Idempotent."""
    now = now or timezone.now()
    hours = settings.APPROVAL_PENDING_EXPIRY_HOURS
    expiring = [k.code for k in kinds() if k.on_expire is not None]
    outcome = {"expired": 0, "skipped": 0}
    if hours <= 0 or not expiring:
        return outcome
    ids = list(
        Approval.objects.filter(
            state=ApprovalState.PENDING, kind__in=expiring, requested_at__lte=now - timedelta(hours=hours)
        )
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    for approval_id in ids:
        try:
            with transaction.atomic():
                approval = (
                    Approval.objects.select_for_update(skip_locked=True)
                    .filter(pk=approval_id, state=ApprovalState.PENDING)
                    .first()
                )
                if approval is None:
                    continue
                approval.state, approval.decided_at = ApprovalState.EXPIRED, now
                approval.decision_reason = f"nobody decided within {hours} h"
                approval.save(update_fields=["state", "decided_at", "decision_reason"])
                on_expire = kind_for(approval.kind).on_expire
                assert on_expire is not None
                on_expire(approval, actor)
                audit_log(
                    actor=actor,
                    action="approval.expired",
                    target=approval,
                    data={"kind": approval.kind, "target": approval.target_label, "hours": hours},
                )
                outcome["expired"] += 1
        except ApplicationError as exc:
            log.warning("approval_not_expired", approval_id=approval_id, code=exc.code, message=exc.message)
            outcome["skipped"] += 1
    return outcome
