"""Time-outs, self-exclusions and the return, operator exclusions and their lifts (maker-checker), data-entry
corrections of an exclusion (maker-checker).

Both maker-checker pairs run on apps.approvals (kinds ``responsible.lift`` and ``responsible.correction``,
registered below when this module is imported: the responsible admin and API import it at start-up). They
always need a second person (no threshold). The exclusion's and the correction's own fields follow the approval:
the lift request is on the exclusion while its approval is pending, the correction is decided when it is. The
decision is taken here (the exclusion's page, the corrections' queue) or in the Approvals inbox: either way the
callbacks below apply it in the decision's transaction, re-checking the checker's responsible-gambling
authority and the corrected end at that moment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.approvals import selectors as approvals_selectors
from apps.approvals import services as approvals
from apps.approvals.models import Approval
from apps.approvals.registry import ApprovalKind, register_kind
from apps.audit.services import AuditActor, audit_log
from apps.core.errors import ValidationFailed
from apps.geo.terms import is_valid_term, term_end
from apps.players.choices import BlockAuthority
from apps.players.models import Player
from apps.players.services import player_lock, require_authority, restriction_placed
from apps.responsible.choices import ExclusionKind
from apps.responsible.coverage import coverage_copy, coverage_record
from apps.responsible.errors import (
    AlreadyCorrected,
    AlreadyDecided,
    CoolingOffPending,
    CorrectionEndsInPast,
    ExclusionActive,
    LiftPending,
    NoExclusion,
    NoLiftRequest,
    NotCorrectable,
    NotInForce,
    NotLiftable,
    TermNotAllowed,
)
from apps.responsible.models import Exclusion, ExclusionCorrection
from apps.responsible.services._common import (
    _emit,
    _in_force,
    _reason,
    _until,
    offered_terms,
    rules_for,
    timeout_range,
)
from apps.staff.models import StaffUser

LIFT_KIND = "responsible.lift"
CORRECTION_KIND = "responsible.correction"


@transaction.atomic
def time_out(*, actor: AuditActor | None, player: Player, hours: int, api_client: str = "") -> Exclusion:
    """A break of ``hours`` within the jurisdiction's range, in force at once; nobody can shorten or end it."""
    player = player_lock(player)
    now = timezone.now()
    rules = rules_for(player, now)
    low, high = timeout_range(rules)
    if not isinstance(hours, int) or isinstance(hours, bool) or not low <= hours <= high:
        raise TermNotAllowed(
            f"A time-out here lasts {low} to {high} hours.",
            fields={"hours": [f"Between {low} and {high}."]},
        )
    ends = now + timedelta(hours=hours)
    active = _in_force(player, now, (ExclusionKind.TIME_OUT, ExclusionKind.SELF_EXCLUSION))
    if any(e.released_at is None or e.released_at >= ends for e in active):
        raise ExclusionActive("A longer time-out or a self-exclusion is already in force.")
    exclusion = Exclusion.objects.create(
        player=player,
        identity_fingerprint=player.identity_fingerprint,
        kind=ExclusionKind.TIME_OUT,
        term=f"{hours}h",
        starts_at=now,
        ends_at=ends,
        released_at=ends,
        created_at=now,
        api_client=api_client,
    )
    coverage_record(exclusion, player)
    audit_log(actor=actor, action="rg.timed_out", target=player, data={"hours": hours, "until": ends})
    _emit(player, "player.timed_out", until=_until(ends))
    return exclusion


@transaction.atomic
def self_exclude(*, actor: AuditActor | None, player: Player, term: str, api_client: str = "") -> Exclusion:
    """A self-exclusion for one of the jurisdiction's terms, in force at once. It can be extended, never
    shortened; when the term ends the account stays closed until the player asks to return."""
    player = player_lock(player)
    now = timezone.now()
    rules = rules_for(player, now)
    allowed = offered_terms(rules)
    if term not in allowed:
        raise TermNotAllowed(
            f"The terms offered here are {', '.join(allowed)}.",
            fields={"term": [f"One of {', '.join(allowed)}."]},
        )
    ends = term_end(term, now)
    for current in _in_force(player, now, (ExclusionKind.SELF_EXCLUSION,)):
        if current.ends_at is None or (ends is not None and current.ends_at >= ends) or current.released_at:
            raise ExclusionActive(
                "A self-exclusion at least as long is already in force; it cannot be shortened.",
            )
    exclusion = Exclusion.objects.create(
        player=player,
        identity_fingerprint=player.identity_fingerprint,
        kind=ExclusionKind.SELF_EXCLUSION,
        term=term,
        starts_at=now,
        ends_at=ends,
        created_at=now,
        api_client=api_client,
    )
    coverage_record(exclusion, player)
    audit_log(actor=actor, action="rg.self_excluded", target=player, data={"term": term, "ends_at": ends})
    _emit(player, "player.self_excluded", term=term, ends_at=_until(ends))
    return exclusion


@transaction.atomic
def self_exclusion_return_request(*, actor: AuditActor | None, player: Player) -> list[Exclusion]:
    """After every term has ended: the account reopens after the jurisdiction's cooling-off (24 h default)."""
    player = player_lock(player)
    now = timezone.now()
    current = _in_force(player, now, (ExclusionKind.SELF_EXCLUSION,))
    if not current:
        raise NoExclusion("There is no self-exclusion in force.")
    running = [e for e in current if e.ends_at is None or e.ends_at > now]
    if running:
        until = [e.ends_at for e in running]
        message = "The self-exclusion has not ended" + (
            "." if None in until else f": it ends {max(u for u in until if u):%Y-%m-%d %H:%M} UTC."
        )
        raise ExclusionActive(message)
    if any(e.return_requested_at for e in current):
        raise CoolingOffPending("A return is already requested; the cooling-off is running.")
    rules = rules_for(player, now)
    reopens = now + timedelta(hours=rules.self_exclusion_return_hours if rules else 24)
    for exclusion in current:
        exclusion.return_requested_at, exclusion.released_at = now, reopens
        exclusion.save(update_fields=["return_requested_at", "released_at"])
    audit_log(actor=actor, action="rg.return_requested", target=player, data={"reopens_at": reopens})
    return current


@transaction.atomic
def operator_exclude(
    *,
    actor: StaffUser,
    player: Player,
    reason: str,
    capabilities: list[str] | None = None,
    ends_at: datetime | None = None,
) -> Exclusion:
    """The operator closes the account (or, with ``capabilities``, blocks those actions), with a reason."""
    from apps.players.choices import Action

    reason = _reason(reason)
    capabilities = sorted(set(capabilities or []))
    unknown = [c for c in capabilities if c not in Action.values]
    if unknown:
        raise ValidationFailed("Unknown actions.", fields={"capabilities": [f"Unknown: {', '.join(unknown)}."]})
    player = player_lock(player)
    now = timezone.now()
    if ends_at is not None and ends_at <= now:
        raise ValidationFailed("The end must be in the future.", fields={"ends_at": ["In the future."]})
    exclusion = Exclusion.objects.create(
        player=player,
        identity_fingerprint=player.identity_fingerprint,
        kind=ExclusionKind.OPERATOR,
        capabilities=capabilities,
        starts_at=now,
        ends_at=ends_at,
        released_at=ends_at,
        reason=reason,
        created_at=now,
        created_by=actor,
    )
    coverage_record(exclusion, player)
    audit_log(
        actor=actor,
        action="rg.operator_excluded",
        target=player,
        data={"reason": reason, "capabilities": capabilities, "ends_at": ends_at},
    )
    _emit(player, "player.blocked", capabilities=capabilities or "all", until=_until(ends_at))
    if Action.WITHDRAW in capabilities:
        restriction_placed(
            actor=actor,
            player=player,
            what="withdrawals blocked (operator block)",
            reason=reason,
            authority=BlockAuthority.RESPONSIBLE_GAMBLING,
        )
    return exclusion


@transaction.atomic
def operator_lift_request(*, actor: StaffUser, exclusion: Exclusion, reason: str) -> Exclusion:
    """Maker: ask to lift an operator exclusion early; a second staff member decides. Both act for responsible
    gambling (``players.act_responsible_gambling``): an operator exclusion follows a responsible-gambling review."""
    reason = _reason(reason)
    require_authority(actor, BlockAuthority.RESPONSIBLE_GAMBLING)
    exclusion = Exclusion.objects.select_for_update().get(pk=exclusion.pk)
    if exclusion.kind != ExclusionKind.OPERATOR:
        raise NotLiftable("Only operator exclusions can be lifted.")
    if not exclusion.in_force():
        raise NotInForce("This exclusion is not in force.")
    if exclusion.lift_requested_by_id:
        raise LiftPending("A lift is already requested.")
    exclusion.lift_requested_by, exclusion.lift_requested_at, exclusion.lift_reason = actor, timezone.now(), reason
    exclusion.save(update_fields=["lift_requested_by", "lift_requested_at", "lift_reason"])
    audit_log(actor=actor, action="rg.lift_requested", target=exclusion.player, data={"exclusion": exclusion.pk})
    approvals.approval_request(
        actor=actor,
        kind=LIFT_KIND,
        target=exclusion,
        reason=reason,
        payload={"exclusion": exclusion.pk, "capabilities": exclusion.capabilities},
        player_id=exclusion.player_id,
    )
    return exclusion


@transaction.atomic
def operator_lift_decide(*, actor: StaffUser, exclusion: Exclusion, approve: bool, reason: str = "") -> Exclusion:
    """Checker: a different staff member acting for responsible gambling approves (the exclusion ends now) or
    refuses the lift (with a reason). The same decision as the Approvals inbox's."""
    require_authority(actor, BlockAuthority.RESPONSIBLE_GAMBLING)
    exclusion = Exclusion.objects.select_for_update().get(pk=exclusion.pk)
    if exclusion.kind != ExclusionKind.OPERATOR:  # as the request: a lift request on a player's own never counts
        raise NotLiftable("Only operator exclusions can be lifted.")
    pending = approvals_selectors.pending_for(exclusion, kind=LIFT_KIND)
    if not exclusion.lift_requested_by_id or pending is None:
        raise NoLiftRequest("No lift is requested.")
    approvals.approval_decide(actor=actor, approval=pending, approve=approve, reason=reason)
    exclusion.refresh_from_db()
    return exclusion


def _lift_locked(approval: Approval, actor: StaffUser) -> Exclusion:
    require_authority(actor, BlockAuthority.RESPONSIBLE_GAMBLING)  # the checker's authority, now
    exclusion = Exclusion.objects.select_for_update().select_related("player").get(pk=int(approval.target_id))
    if exclusion.kind != ExclusionKind.OPERATOR:
        raise NotLiftable("Only operator exclusions can be lifted.")
    if not exclusion.lift_requested_by_id:
        raise NoLiftRequest("No lift is requested.")
    return exclusion


def _lift_apply(approval: Approval, actor: StaffUser) -> None:
    exclusion = _lift_locked(approval, actor)
    exclusion.lift_approved_by, exclusion.released_at = actor, timezone.now()
    exclusion.save(update_fields=["lift_approved_by", "released_at"])
    _emit(exclusion.player, "player.unblocked", exclusion=exclusion.pk)
    audit_log(
        actor=actor,
        action="rg.lift_approved",
        target=exclusion.player,
        data={"exclusion": exclusion.pk, "approval": approval.pk},
    )


def _lift_reject(approval: Approval, actor: StaffUser) -> None:
    exclusion = _lift_locked(approval, actor)
    exclusion.lift_requested_by, exclusion.lift_requested_at, exclusion.lift_reason = None, None, ""
    exclusion.save(update_fields=["lift_requested_by", "lift_requested_at", "lift_reason"])
    audit_log(
        actor=actor,
        action="rg.lift_refused",
        target=exclusion.player,
        data={"exclusion": exclusion.pk, "reason": approval.decision_reason, "approval": approval.pk},
    )


@transaction.atomic
def exclusion_correction_request(
    *, actor: StaffUser, exclusion: Exclusion, term: str, reason: str
) -> ExclusionCorrection:
    """Maker: a data-entry correction of an exclusion's term (e.g. 5y keyed in where the player chose 1y).

    The end is never keyed in: it follows from the term and the original start. A correction is refused when
    that end has already passed (it would end the exclusion at once) and must be a term the jurisdiction
    offered (so never shorter than its minimum). Operator exclusions are lifted, not corrected.
    """
    reason = _reason(reason)
    exclusion = Exclusion.objects.select_for_update().get(pk=exclusion.pk)
    if exclusion.kind == ExclusionKind.OPERATOR:
        raise NotCorrectable("Operator exclusions are lifted (two staff members), not corrected.")
    if exclusion.superseded_by_id:
        raise AlreadyCorrected("This exclusion was already corrected.")
    term = (term or "").strip()
    if not is_valid_term(term):
        raise TermNotAllowed("Not a term.", fields={"term": ["e.g. 6m, 1y, 72h."]})
    _check_offered(exclusion, term)
    ends_at = _corrected_end(exclusion, term, timezone.now())
    correction = ExclusionCorrection.objects.create(
        exclusion=exclusion, term=term, ends_at=ends_at, reason=reason, requested_by=actor
    )
    audit_log(
        actor=actor,
        action="rg.correction_requested",
        target=exclusion.player,
        data={"exclusion": exclusion.pk, "term": term, "ends_at": ends_at, "reason": reason},
    )
    approvals.approval_request(
        actor=actor,
        kind=CORRECTION_KIND,
        target=correction,
        reason=reason,
        payload={"exclusion": exclusion.pk, "term": term, "ends_at": ends_at},
        player_id=exclusion.player_id,
    )
    return correction


def _corrected_end(exclusion: Exclusion, term: str, now: datetime) -> datetime | None:
    """The end a corrected term gives from the exclusion's original start; refused if already past."""
    ends_at = term_end(term, exclusion.starts_at)
    if ends_at is not None and ends_at <= now:
        raise CorrectionEndsInPast(
            f"With the term {term} from {exclusion.starts_at:%Y-%m-%d} this exclusion would already have ended "
            f"({ends_at:%Y-%m-%d %H:%M} UTC): a correction never ends an exclusion.",
            fields={"term": ["Would end in the past."]},
        )
    return ends_at


def _check_offered(exclusion: Exclusion, term: str) -> None:
    """A correction keys in what the player chose, so it must be a term the jurisdiction offered then."""
    rules = rules_for(exclusion.player, exclusion.starts_at)
    if exclusion.kind == ExclusionKind.SELF_EXCLUSION:
        allowed = offered_terms(rules)
        if term not in allowed:
            raise TermNotAllowed(
                f"The terms offered there are {', '.join(allowed)}.",
                fields={"term": [f"One of {', '.join(allowed)}."]},
            )
    elif exclusion.kind == ExclusionKind.TIME_OUT:
        low, high = timeout_range(rules)
        hours = int(term[:-1]) if term.endswith("h") and term[:-1].isdigit() else -1
        if not low <= hours <= high:
            raise TermNotAllowed(
                f"A time-out there lasts {low} to {high} hours, written like 72h.",
                fields={"term": [f"{low}h to {high}h."]},
            )


@transaction.atomic
def exclusion_correction_decide(
    *, actor: StaffUser, correction: ExclusionCorrection, approve: bool, reason: str = ""
) -> Exclusion:
    """Checker: a second staff member applies the correction (a new row supersedes the old one, returned) or
    refuses it (with a reason; the old row is returned). The same decision as the Approvals inbox's."""
    correction = ExclusionCorrection.objects.select_for_update().get(pk=correction.pk)
    pending = approvals_selectors.pending_for(correction, kind=CORRECTION_KIND)
    if correction.approved is not None or pending is None:
        raise AlreadyDecided("This correction is decided.")
    approvals.approval_decide(actor=actor, approval=pending, approve=approve, reason=reason)
    old = Exclusion.objects.get(pk=correction.exclusion_id)
    return Exclusion.objects.get(pk=old.superseded_by_id) if approve and old.superseded_by_id else old


def _correction_locked(approval: Approval, actor: StaffUser, approve: bool) -> tuple[ExclusionCorrection, Exclusion]:
    correction = ExclusionCorrection.objects.select_for_update().get(pk=int(approval.target_id))
    if correction.approved is not None:
        raise AlreadyDecided("This correction is decided.")
    old = Exclusion.objects.select_for_update().select_related("player").get(pk=correction.exclusion_id)
    correction.decided_by, correction.decided_at, correction.approved = actor, timezone.now(), approve
    correction.save(update_fields=["decided_by", "decided_at", "approved"])
    return correction, old


def _correction_apply(approval: Approval, actor: StaffUser) -> None:
    """A new row supersedes the old one; the world may have moved since the request, so the corrected end is
    checked again now."""
    correction, old = _correction_locked(approval, actor, True)
    if old.superseded_by_id:
        raise AlreadyCorrected("This exclusion was already corrected.")
    ends_at = _corrected_end(old, correction.term, correction.decided_at or timezone.now())
    if old.kind == ExclusionKind.TIME_OUT:
        released = ends_at  # a time-out ends by itself at its (corrected, future) end
    elif old.released_at is not None and ends_at is not None and ends_at <= old.released_at:
        released = old.released_at  # a return already requested stays requested
    else:
        released = None  # still running (or now longer): the player asks to return after the new end
    result = Exclusion.objects.create(
        player_id=old.player_id,
        identity_fingerprint=old.identity_fingerprint,
        kind=old.kind,
        term=correction.term,
        capabilities=old.capabilities,
        starts_at=old.starts_at,
        ends_at=ends_at,
        released_at=released,
        reason=old.reason,
        created_by=actor,
        api_client=old.api_client,
    )
    old.superseded_by = result
    old.save(update_fields=["superseded_by"])
    coverage_copy(old, result)
    audit_log(
        actor=actor,
        action="rg.correction_applied",
        target=old.player,
        data={"exclusion": old.pk, "replacement": result.pk, "approval": approval.pk},
    )


def _correction_reject(approval: Approval, actor: StaffUser) -> None:
    _correction, old = _correction_locked(approval, actor, False)
    audit_log(
        actor=actor,
        action="rg.correction_refused",
        target=old.player,
        data={"exclusion": old.pk, "replacement": None, "reason": approval.decision_reason, "approval": approval.pk},
    )


def _lift_expire(approval: Approval, actor: AuditActor) -> None:
    """Nobody decided the lift in time: the request is cleared; the exclusion stays in force."""
    exclusion = Exclusion.objects.select_for_update().select_related("player").get(pk=int(approval.target_id))
    exclusion.lift_requested_by, exclusion.lift_requested_at, exclusion.lift_reason = None, None, ""
    exclusion.save(update_fields=["lift_requested_by", "lift_requested_at", "lift_reason"])
    audit_log(
        actor=actor,
        action="rg.lift_expired",
        target=exclusion.player,
        data={"exclusion": exclusion.pk, "approval": approval.pk},
    )


def _correction_expire(approval: Approval, actor: AuditActor) -> None:
    correction = ExclusionCorrection.objects.select_for_update().get(pk=int(approval.target_id))
    if correction.approved is not None:
        raise AlreadyDecided("This correction is decided.")
    correction.decided_at, correction.approved = timezone.now(), False  # refused by nobody: decided_by stays empty
    correction.save(update_fields=["decided_at", "approved"])
    old = Exclusion.objects.select_related("player").get(pk=correction.exclusion_id)
    audit_log(
        actor=actor,
        action="rg.correction_expired",
        target=old.player,
        data={"exclusion": old.pk, "correction": correction.pk, "approval": approval.pk},
    )


register_kind(
    ApprovalKind(
        code=LIFT_KIND,
        label="Lift of an operator exclusion",
        request_permission="responsible.request_lift",
        decide_permission="responsible.decide_lift",
        apply=_lift_apply,
        on_reject=_lift_reject,
        on_expire=_lift_expire,
    )
)
register_kind(
    ApprovalKind(
        code=CORRECTION_KIND,
        label="Correction of an exclusion's term",
        request_permission="responsible.correct_exclusion",
        decide_permission="responsible.correct_exclusion",
        apply=_correction_apply,
        on_reject=_correction_reject,
        on_expire=_correction_expire,
    )
)
