"""Cases: who sees and works them, how they open, move, wait, close and reopen. The only writer of ``Case``.

Who sees a case (``cases_visible_to``): the MLRO (``view_all_cases``) every case; an AML Analyst
(``view_case``) the cases assigned to them or to their inbox's team; anyone else none, and nothing says that
one exists (the tipping-off wall). Who works it: whoever holds ``compliance.work_case`` on it, role-wide (the
MLRO) or as the django-guardian grant written here when a case lands in an inbox (to the team) or is assigned
(to the assignee; taken back on reassignment). The visibility test reads the two columns (no join to
guardian's tables); the work test reads the grant; both are written only here, so they say the same.

The state machine (``TRANSITIONS``)::

    new ──assign──▶ assigned ──start──▶ in_progress ◀──resume── waiting
     │                 │                  │  ▲  │                  ▲
     └──────escalate───┴────escalate──────┘  │  └──────wait────────┘
                                             │
    in_progress / assigned / escalated ──close(refuted | inconclusive)──▶ closed
    in_progress / assigned / escalated ──close(confirmed)──▶ pending_approval ──second person──▶ closed
                                                                  └──rejected──▶ in_progress
    closed ──reopen (a reason of at least 20 characters)──▶ in_progress (assigned) | new

Waiting stops the SLA clock (apps/compliance/sla.py) and resuming starts it again; the time a case was closed
does not count when it is reopened (it is added to the paused time). Every change writes a timeline event and an
audit event in its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from apps.approvals.registry import ApprovalKind, register_kind
from apps.approvals.services import approval_request
from apps.audit.services import SYSTEM, AuditActor, audit_log
from apps.compliance import sla
from apps.compliance.choices import (
    OPEN_STATES,
    PRIORITY_ORDER,
    CaseEventKind,
    CaseSource,
    CaseState,
    CaseType,
    Outcome,
    Priority,
    SlaState,
    WaitingOn,
)
from apps.compliance.errors import (
    CaseAlreadyOpen,
    CaseAssigneeInvalid,
    CaseClosed,
    CaseNotFound,
    CaseNotPermitted,
    CaseOutcomeInvalid,
    CaseTransitionInvalid,
    ReopenReasonTooShort,
)
from apps.compliance.models import Alert, AnalystStatus, Case, CaseEvent, CaseInbox, CaseTransaction
from apps.core.errors import ReasonRequired, ValidationFailed
from apps.players.models import Player
from apps.staff.models import StaffUser
from apps.staff.permissions import can_act

VIEW = "compliance.view_case"
VIEW_ALL = "compliance.view_all_cases"
WORK = "compliance.work_case"
ASSIGN = "compliance.assign_case"
OPEN = "compliance.add_case"
APPROVE_CLOSING = "compliance.approve_case_closing"
CONFIRM_KIND = "compliance.case_confirm"
REOPEN_MIN = 20
TEXT_MAX = 5000

# state -> the states a named move may take it to
TRANSITIONS: dict[str, dict[str, str]] = {
    "start": {CaseState.NEW: CaseState.IN_PROGRESS, CaseState.ASSIGNED: CaseState.IN_PROGRESS},
    "wait": {
        CaseState.ASSIGNED: CaseState.WAITING,
        CaseState.IN_PROGRESS: CaseState.WAITING,
        CaseState.ESCALATED: CaseState.WAITING,
    },
    "resume": {CaseState.WAITING: CaseState.IN_PROGRESS},
    "escalate": {
        CaseState.NEW: CaseState.ESCALATED,
        CaseState.ASSIGNED: CaseState.ESCALATED,
        CaseState.IN_PROGRESS: CaseState.ESCALATED,
        CaseState.WAITING: CaseState.ESCALATED,
    },
    "close": {
        CaseState.ASSIGNED: CaseState.CLOSED,
        CaseState.IN_PROGRESS: CaseState.CLOSED,
        CaseState.ESCALATED: CaseState.CLOSED,
    },
}


# --- who sees and works what ------------------------------------------------------------------------------------


def team_ids(user: Any) -> list[int]:
    """The member's groups, kept on the user object for the request (as Django keeps its permission cache)."""
    cached: list[int] | None = getattr(user, "_compliance_team_ids", None)
    if cached is None:
        cached = list(user.groups.values_list("pk", flat=True))
        user._compliance_team_ids = cached
    return cached


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_active", False))


def sees_cases(user: Any) -> bool:
    """Whether the user may know that cases exist at all (the wall: every other role gets nothing)."""
    return _active(user) and user.has_perm(VIEW)


def is_lead(user: Any) -> bool:
    return _active(user) and user.has_perm(VIEW_ALL)


def cases_visible_to(user: Any, queryset: QuerySet[Case] | None = None) -> QuerySet[Case]:
    queryset = Case.objects.all() if queryset is None else queryset
    if not sees_cases(user):
        return queryset.none()
    if is_lead(user):
        return queryset
    mine = Q(assignee_id=user.pk)
    teams = team_ids(user)
    if teams:
        mine |= Q(inbox__team_id__in=teams)
    return queryset.filter(mine)


def case_visible(user: Any, case: Case) -> bool:
    if not sees_cases(user):
        return False
    if is_lead(user) or case.assignee_id == user.pk:
        return True
    if case.inbox_id is None:
        return False
    team = CaseInbox.objects.filter(pk=case.inbox_id).values_list("team_id", flat=True).first()
    return team is not None and team in team_ids(user)


def case_get(user: Any, pk: Any) -> Case:
    """The case if the user may see it; ``case_not_found`` otherwise (whether or not it exists)."""
    try:
        case = cases_visible_to(user).get(pk=int(pk))
    except (Case.DoesNotExist, TypeError, ValueError) as exc:
        raise CaseNotFound("No such case.") from exc
    return case


def may_work(user: Any, case: Case) -> bool:
    return case_visible(user, case) and can_act(user, WORK, case)


def _require_work(actor: Any, case: Case) -> None:
    if not case_visible(actor, case):
        raise CaseNotFound("No such case.")
    if not can_act(actor, WORK, case):
        raise CaseNotPermitted("You may not work this case (it is not assigned to you or your inbox).")


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _text(value: str, *, field: str, required: bool, minimum: int = 0) -> str:
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if any(ord(c) < 32 and c not in "\n\t" for c in value) or "\x7f" in value:
        raise ValidationFailed("The text may not contain control characters.", fields={field: ["Control chars."]})
    if required and not value:
        raise ReasonRequired("A reason is required.", fields={field: ["Required."]})
    if len(value) > TEXT_MAX:
        raise ValidationFailed("The text is too long.", fields={field: [f"At most {TEXT_MAX} characters."]})
    return value


def _event(case: Case, kind: str, actor: AuditActor | None, text: str = "", **data: Any) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, kind=kind, actor=actor if isinstance(actor, StaffUser) else None, text=text, data=data
    )


def _audit(actor: AuditActor | None, action: str, case: Case, **data: Any) -> None:
    audit_log(
        actor=actor,
        action=f"compliance.case_{action}",
        target=case,
        data={"case": case.pk, "type": case.type, "state": case.state, "visibility": "compliance", **data},
    )


# --- routing, the SLA and assignment ----------------------------------------------------------------------------


def inbox_for(case_type: str) -> CaseInbox | None:
    """The inbox a case type is routed to: the first (by id) that lists it, else the first inbox, else none."""
    inboxes = list(CaseInbox.objects.order_by("id"))
    for inbox in inboxes:
        if case_type in (inbox.case_types or []):
            return inbox
    return inboxes[0] if inboxes else None


def _set_deadlines(case: Case) -> None:
    hours, percent = sla.policy_for(case.type, case.priority)
    case.sla_hours = hours
    case.at_risk_at, case.due_at = sla.deadlines(
        case.inbox, opened_at=case.opened_at, hours=hours, at_risk_percent=percent, paused_seconds=case.paused_seconds
    )


def _permission(dotted: str) -> Permission:
    """The Permission row (read each time: a test flush recreates permissions under new ids)."""
    app_label, codename = dotted.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _grant_team(case: Case) -> None:
    if case.inbox is not None:
        assign_perm(_permission(WORK), Group(pk=case.inbox.team_id), case)


def may_be_assigned(user: StaffUser, case: Case) -> bool:
    """An assignee sees cases and is in the case's inbox team, or sees every case (the MLRO)."""
    if not user.is_active or not user.has_perm(VIEW):
        return False
    if user.has_perm(VIEW_ALL):
        return True
    return case.inbox is not None and user.groups.filter(pk=case.inbox.team_id).exists()


def _next_in_rotation(inbox: CaseInbox, now: datetime) -> StaffUser | None:
    """Round-robin: the next active member of the inbox's team after the last one given a case, skipping those
    marked away and those without access to cases (superusers aside, ``view_case`` comes from a role, i.e. a
    group, or a direct grant). One query: this runs for every new case, in the rules' consumer. The caller holds
    the inbox's row lock, so two new cases never go to the same turn."""
    view = _permission(VIEW)
    away = Q(case_status__away=True) & (Q(case_status__away_until__isnull=True) | Q(case_status__away_until__gt=now))
    members = list(
        StaffUser.objects.filter(groups=inbox.team, is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__permissions=view) | Q(user_permissions=view))
        .exclude(away)
        .distinct()
        .order_by("id")
    )
    if not members:
        return None
    after = inbox.last_assigned_id or 0
    return next((m for m in members if m.pk > after), members[0])


def _assign(case: Case, assignee: StaffUser | None, actor: AuditActor | None, *, how: str) -> None:
    previous = case.assignee
    if previous is not None and (assignee is None or previous.pk != assignee.pk):
        remove_perm(_permission(WORK), previous, case)
    case.assignee = assignee
    if assignee is not None:
        assign_perm(_permission(WORK), assignee, case)
    if case.state == CaseState.NEW and assignee is not None:
        case.state = CaseState.ASSIGNED
    case.save(update_fields=["assignee", "state", "updated_at"])
    name = assignee.get_full_name() or assignee.username if assignee is not None else ""
    _event(
        case,
        CaseEventKind.ASSIGNED,
        actor,
        f"Assigned to {name} ({how})" if assignee else "Unassigned",
        assignee=assignee.pk if assignee else None,
        previous=previous.pk if previous else None,
        how=how,
    )
    _audit(actor, "assigned", case, assignee=assignee.pk if assignee else None, how=how)


def _auto_assign(case: Case, now: datetime) -> None:
    if case.inbox_id is None:
        return
    inbox = CaseInbox.objects.select_for_update().get(pk=case.inbox_id)
    if not inbox.auto_assign:
        return
    member = _next_in_rotation(inbox, now)
    if member is None:
        return
    inbox.last_assigned = member
    inbox.save(update_fields=["last_assigned"])
    _assign(case, member, SYSTEM, how="round-robin")


# --- opening --------------------------------------------------------------------------------------------------


def _create(
    *,
    actor: AuditActor | None,
    player: Player | None,
    case_type: str,
    priority: str,
    source: str,
    title: str,
    text: str,
) -> Case:
    now = timezone.now()
    inbox = inbox_for(case_type)
    case = Case(
        type=case_type,
        priority=priority,
        source=source,
        title=title[:200],
        player=player,
        inbox=inbox,
        opened_at=now,
        opened_by=actor if isinstance(actor, StaffUser) else None,
    )
    _set_deadlines(case)
    case.save()
    _grant_team(case)
    _event(case, CaseEventKind.OPENED, actor, text, source=source, priority=priority, due_at=case.due_at)
    _audit(actor, "opened", case, source=source, priority=priority, player=player.pk if player else None)
    _auto_assign(case, now)
    return case


def _open_case_of(player: Player | None, case_type: str) -> Case | None:
    if player is None:
        return None
    return (
        Case.objects.select_for_update()
        .filter(player=player, type=case_type, state__in=OPEN_STATES)
        .order_by("id")
        .first()
    )


def case_open_or_attach(
    *,
    actor: AuditActor | None,
    player: Player | None,
    case_type: str,
    source: str,
    title: str,
    text: str = "",
    priority: str = Priority.MEDIUM,
) -> tuple[Case, bool]:
    """The way in for other apps and for alerts: the player's open case of ``case_type`` (its priority raised if
    this is more urgent), or a new one. Returns (case, created). Two callers at once for one player and type: the
    database's one-open-case constraint makes the second find the first's case."""
    if case_type not in CaseType.values:
        raise ValidationFailed(f"Unknown case type {case_type!r}.", fields={"case_type": ["Unknown."]})
    if priority not in Priority.values:
        raise ValidationFailed(f"Unknown priority {priority!r}.", fields={"priority": ["Unknown."]})
    with transaction.atomic():
        existing = _open_case_of(player, case_type)
        if existing is not None:
            _raise_priority(existing, priority, actor)
            return existing, False
        try:
            with transaction.atomic():
                return (
                    _create(
                        actor=actor,
                        player=player,
                        case_type=case_type,
                        priority=priority,
                        source=source,
                        title=title,
                        text=text,
                    ),
                    True,
                )
        except IntegrityError:
            existing = _open_case_of(player, case_type)
            if existing is None:
                raise
            _raise_priority(existing, priority, actor)
            return existing, False


def _raise_priority(case: Case, priority: str, actor: AuditActor | None) -> None:
    if PRIORITY_ORDER[priority] >= PRIORITY_ORDER[case.priority]:  # type: ignore[index]
        return
    old = case.priority
    case.priority = priority
    _set_deadlines(case)
    case.save(update_fields=["priority", "sla_hours", "at_risk_at", "due_at", "updated_at"])
    _event(case, CaseEventKind.STATE, actor, f"Priority raised from {old} to {priority}", priority=priority)
    _audit(actor, "priority_raised", case, old=old, priority=priority)


@transaction.atomic
def case_open(
    *,
    actor: StaffUser,
    player: Player | None,
    case_type: str,
    title: str,
    text: str = "",
    priority: str = Priority.MEDIUM,
) -> Case:
    """A case opened by hand (``compliance.add_case``). A player with an open case of the type already: refused
    (``case_already_open``), work that one."""
    if not actor.has_perm(OPEN):
        raise CaseNotPermitted("You may not open cases.")
    title = _text(title, field="title", required=True)
    text = _text(text, field="text", required=False)
    if _open_case_of(player, case_type) is not None:
        raise CaseAlreadyOpen("This player already has an open case of this type.")
    case, _ = case_open_or_attach(
        actor=actor,
        player=player,
        case_type=case_type,
        source=CaseSource.MANUAL,
        title=title,
        text=text,
        priority=priority,
    )
    return case


def _transaction_ids(evidence: dict[str, Any]) -> list[int]:
    found = evidence.get("transactions") or evidence.get("transaction_ids") or []
    ids = []
    for value in found if isinstance(found, list) else []:
        if isinstance(value, dict):
            value = value.get("id")
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return ids


@transaction.atomic
def case_for_alert(*, alert: Alert) -> Case:
    """A new alert goes to the player's open case of its version's case type, or opens one; its evidence's
    transactions are linked to the case."""
    version = alert.version
    case, created = case_open_or_attach(
        actor=SYSTEM,
        player=alert.player,
        case_type=version.case_type,
        source=CaseSource.ALERT,
        title=f"{alert.rule.name}",
        priority=version.priority,
        text=f"Opened by rule {alert.rule.code} v{version.number}",
    )
    Alert.objects.filter(pk=alert.pk).update(case=case)
    alert.case = case
    _event(
        case,
        CaseEventKind.ALERT_LINKED,
        SYSTEM,
        f"Alert #{alert.pk}: {alert.rule.name} (v{version.number}, score {alert.score})",
        alert=alert.pk,
        rule=alert.rule.code,
        version=version.number,
    )
    for transaction_id in _transaction_ids(alert.evidence):
        CaseTransaction.objects.get_or_create(case=case, transaction_id=transaction_id)
    if not created:
        _audit(SYSTEM, "alert_linked", case, alert=alert.pk)
    return case


# --- assignment ---------------------------------------------------------------------------------------------


@transaction.atomic
def case_assign(*, actor: StaffUser, case: Case, assignee: StaffUser | None) -> Case:
    """Assign (or, with None, unassign) a case: ``compliance.assign_case``; the assignee must be able to see it."""
    if not case_visible(actor, case):
        raise CaseNotFound("No such case.")
    if not actor.has_perm(ASSIGN):
        raise CaseNotPermitted("You may not assign cases.")
    case = _locked(case)
    if case.state == CaseState.CLOSED:
        raise CaseClosed("The case is closed.")
    if assignee is not None:
        assignee = StaffUser.objects.get(pk=assignee.pk)
        if not may_be_assigned(assignee, case):
            raise CaseAssigneeInvalid(
                "They cannot work this case (not in its inbox's team, or without access to cases).",
                fields={"assignee": ["Not in the case's inbox team."]},
            )
    _assign(case, assignee, actor, how="by hand")
    return case


def cases_assign_bulk(*, actor: StaffUser, cases: Iterable[Case], assignee: StaffUser | None) -> int:
    """Bulk assignment: all or nothing (one transaction), each case checked as one assignment is."""
    with transaction.atomic():
        done = 0
        for case in cases:
            case_assign(actor=actor, case=case, assignee=assignee)
            done += 1
        return done


@transaction.atomic
def analyst_set_away(*, actor: StaffUser, staff: StaffUser, away: bool, until: datetime | None = None) -> None:
    """Mark an analyst away (skipped by round-robin until ``until`` or until marked back) or back. Oneself, or
    with ``compliance.change_analyststatus``."""
    if actor.pk != staff.pk and not actor.has_perm("compliance.change_analyststatus"):
        raise CaseNotPermitted("You may not change another analyst's status.")
    if until is not None and until <= timezone.now():
        raise ValidationFailed("The end must be in the future.", fields={"until": ["In the future."]})
    AnalystStatus.objects.update_or_create(staff=staff, defaults={"away": away, "away_until": until if away else None})
    audit_log(
        actor=actor,
        action="compliance.analyst_away" if away else "compliance.analyst_back",
        target=staff,
        data={"until": until, "visibility": "compliance"},
    )


# --- moving ---------------------------------------------------------------------------------------------------


def _move(case: Case, move: str) -> str:
    target = TRANSITIONS[move].get(case.state)
    if target is None:
        raise CaseTransitionInvalid(f"A case that is {case.get_state_display().lower()} cannot be {move}ed now.")
    return target


def _guarded(actor: Any, case: Case) -> Case:
    _require_work(actor, case)
    case = _locked(case)
    if case.state == CaseState.CLOSED:
        raise CaseClosed("The case is closed: reopen it first.")
    return case


@transaction.atomic
def case_start(*, actor: StaffUser, case: Case) -> Case:
    """Start work. An unassigned case is taken by whoever starts it."""
    case = _guarded(actor, case)
    target = _move(case, "start")
    if case.assignee_id is None:
        _assign(case, actor, actor, how="taken")
    old, case.state = case.state, target
    case.save(update_fields=["state", "updated_at"])
    _event(case, CaseEventKind.STATE, actor, "Work started", old=old, new=target)
    _audit(actor, "started", case, old=old)
    return case


@transaction.atomic
def case_wait(*, actor: StaffUser, case: Case, waiting_on: str, text: str) -> Case:
    """Wait for the player or another team: the SLA clock stops until ``case_resume``."""
    case = _guarded(actor, case)
    if waiting_on not in WaitingOn.values:
        raise ValidationFailed("Waiting on whom?", fields={"waiting_on": ["The player or another team."]})
    text = _text(text, field="text", required=True)
    target = _move(case, "wait")
    now = timezone.now()
    old, case.state, case.waiting_on = case.state, target, waiting_on
    sla.pause(case, now)
    case.save(update_fields=["state", "waiting_on", "paused_at", "updated_at"])
    _event(case, CaseEventKind.STATE, actor, text, old=old, new=target, waiting_on=waiting_on, clock="paused")
    _audit(actor, "waiting", case, waiting_on=waiting_on, text=text)
    return case


def _resume_clock(case: Case, now: datetime) -> None:
    sla.resume(case, now)
    case.waiting_on = ""


@transaction.atomic
def case_resume(*, actor: StaffUser, case: Case, text: str = "") -> Case:
    """The reply came: the SLA clock runs again, its deadlines moved by the working time spent waiting."""
    case = _guarded(actor, case)
    text = _text(text, field="text", required=False)
    target = _move(case, "resume")
    _resume_clock(case, timezone.now())
    old, case.state = case.state, target
    case.save()
    _event(
        case,
        CaseEventKind.STATE,
        actor,
        text or "Reply received",
        old=old,
        new=target,
        clock="running",
        due_at=case.due_at,
    )
    _audit(actor, "resumed", case, due_at=case.due_at)
    return case


@transaction.atomic
def case_escalate(*, actor: StaffUser, case: Case, text: str) -> Case:
    """Hand the case to the MLRO (who sees every case)."""
    case = _guarded(actor, case)
    text = _text(text, field="text", required=True)
    target = _move(case, "escalate")
    if case.state == CaseState.WAITING:
        _resume_clock(case, timezone.now())
    old, case.state = case.state, target
    case.escalation_level = max(case.escalation_level, 2)
    case.save()
    _event(case, CaseEventKind.ESCALATED, actor, text, old=old, to="MLRO")
    _audit(actor, "escalated", case, text=text)
    return case


@transaction.atomic
def case_note(*, actor: StaffUser, case: Case, text: str) -> CaseEvent:
    case = _guarded(actor, case)
    text = _text(text, field="text", required=True)
    event = _event(case, CaseEventKind.NOTE, actor, text)
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    _audit(actor, "note_added", case, event=event.pk)
    return event


@transaction.atomic
def case_link_transaction(*, actor: StaffUser, case: Case, transaction_id: int) -> CaseTransaction:
    from apps.wallet.models import LedgerTransaction

    case = _guarded(actor, case)
    if not LedgerTransaction.objects.filter(pk=transaction_id).exists():
        raise ValidationFailed("No such transaction.", fields={"transaction_id": ["Unknown."]})
    link, created = CaseTransaction.objects.get_or_create(
        case=case, transaction_id=transaction_id, defaults={"added_by": actor}
    )
    if created:
        _event(
            case,
            CaseEventKind.TRANSACTION_LINKED,
            actor,
            f"Transaction #{transaction_id} linked",
            transaction=transaction_id,
        )
        _audit(actor, "transaction_linked", case, transaction=transaction_id)
    return link


# --- closing and reopening --------------------------------------------------------------------------------------


def _close(case: Case, *, outcome: str, reason: str, closed_by: StaffUser, actor: AuditActor) -> None:
    now = timezone.now()
    if case.paused_at is not None:
        _resume_clock(case, now)
    case.state, case.outcome, case.closing_reason = CaseState.CLOSED, outcome, reason
    case.closed_at, case.closed_by = now, closed_by
    case.save()
    _event(case, CaseEventKind.CLOSED, actor, reason, outcome=outcome, closed_by=closed_by.pk)
    _audit(actor, "closed", case, outcome=outcome, reason=reason)


@transaction.atomic
def case_close(*, actor: StaffUser, case: Case, outcome: str, reason: str) -> Case:
    """Close with an outcome and a reason. Refuted or inconclusive: closed now. Confirmed: a second person with
    ``compliance.approve_case_closing`` decides (maker-checker); the case waits in ``pending_approval``."""
    case = _guarded(actor, case)
    if outcome not in Outcome.values:
        raise CaseOutcomeInvalid(
            "Choose an outcome: confirmed, refuted or inconclusive.",
            fields={"outcome": ["Confirmed, refuted or inconclusive."]},
        )
    reason = _text(reason, field="reason", required=False)
    if not reason:
        raise CaseOutcomeInvalid("Say why the case closes this way.", fields={"reason": ["Required."]})
    target = _move(case, "close")
    if outcome != Outcome.CONFIRMED:
        _close(case, outcome=outcome, reason=reason, closed_by=actor, actor=actor)
        return case
    old, case.state = case.state, CaseState.PENDING_APPROVAL
    case.save(update_fields=["state", "updated_at"])
    approval = approval_request(
        actor=actor,
        kind=CONFIRM_KIND,
        target=case,
        reason=reason,
        payload={"outcome": outcome, "from_state": old},
        player_id=case.player_id,
    )
    _event(case, CaseEventKind.APPROVAL, actor, reason, approval=approval.pk, outcome=outcome, asked=True)
    _audit(actor, "close_requested", case, outcome=outcome, approval=approval.pk)
    del target
    return case


def _confirm_locked(approval: Any) -> Case:
    case = Case.objects.select_for_update().get(pk=int(approval.target_id))
    if case.state != CaseState.PENDING_APPROVAL:
        raise CaseTransitionInvalid(f"The case is {case.get_state_display().lower()}, not waiting for approval.")
    return case


def _confirm_apply(approval: Any, actor: StaffUser) -> None:
    case = _confirm_locked(approval)
    if not case_visible(actor, case):
        raise CaseNotFound("No such case.")
    _event(
        case, CaseEventKind.APPROVAL, actor, approval.decision_reason or "Approved", approval=approval.pk, approved=True
    )
    _close(case, outcome=Outcome.CONFIRMED, reason=approval.reason, closed_by=approval.maker, actor=actor)


def _confirm_reject(approval: Any, actor: StaffUser) -> None:
    case = _confirm_locked(approval)
    case.state = CaseState.IN_PROGRESS
    case.save(update_fields=["state", "updated_at"])
    _event(case, CaseEventKind.APPROVAL, actor, approval.decision_reason, approval=approval.pk, approved=False)
    _audit(actor, "close_rejected", case, approval=approval.pk, reason=approval.decision_reason)


def _case_url(approval: Any) -> str | None:
    try:
        return reverse("admin:compliance_case_change", args=[approval.target_id])
    except NoReverseMatch:
        return None


@transaction.atomic
def case_reopen(*, actor: StaffUser, case: Case, reason: str) -> Case:
    """Reopen a closed case with a reason of at least 20 characters. The time it was closed does not count on its
    SLA clock. If the player has another open case of the type now, that one is to be worked instead."""
    _require_work(actor, case)
    case = _locked(case)
    if case.state != CaseState.CLOSED:
        raise CaseTransitionInvalid("Only a closed case can be reopened.")
    reason = _text(reason, field="reason", required=True)
    if len(reason) < REOPEN_MIN:
        raise ReopenReasonTooShort(
            f"Say why in at least {REOPEN_MIN} characters.", fields={"reason": [f"At least {REOPEN_MIN} characters."]}
        )
    if (
        case.player_id is not None
        and Case.objects.filter(player_id=case.player_id, type=case.type, state__in=OPEN_STATES).exists()
    ):
        raise CaseAlreadyOpen("This player has another open case of this type: work that one.")
    now = timezone.now()
    assert case.closed_at is not None
    case.paused_seconds += sla.working_seconds(case.inbox, case.closed_at, now)
    old_outcome = case.outcome
    case.state = CaseState.IN_PROGRESS if case.assignee_id else CaseState.NEW
    case.outcome, case.closed_at, case.closed_by, case.closing_reason = "", None, None, ""
    case.reopen_count += 1
    _set_deadlines(case)
    if case.sla_state == SlaState.AT_RISK and now < case.at_risk_at:
        case.sla_state = SlaState.ON_TRACK  # as a resumed case: its at-risk point moved ahead (a breach stays)
    case.save()
    _event(case, CaseEventKind.REOPENED, actor, reason, previous_outcome=old_outcome, due_at=case.due_at)
    _audit(actor, "reopened", case, reason=reason, previous_outcome=old_outcome)
    return case


def register() -> None:
    """The maker-checker kind of a case closed as confirmed (from ``ComplianceConfig.ready``)."""
    register_kind(
        ApprovalKind(
            code=CONFIRM_KIND,
            label="Case closed as confirmed",
            request_permission=WORK,
            decide_permission=APPROVE_CLOSING,
            apply=_confirm_apply,
            on_reject=_confirm_reject,
            target_url=_case_url,
        )
    )
