"""Player protection: every change here is one service, audited, and told to the platform through the outbox.

Rules per jurisdiction come from the player's rule pack (apps.geo): time-out range, self-exclusion terms,
cooling-off of a limit increase and its confirmation window, the cooling-off before a self-excluded player
returns. Nothing here can shorten a player's own time-out or self-exclusion; the database refuses it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from apps.audit.services import AuditActor, audit_log
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.core.money import DECIMAL_TEXT, quantize
from apps.core.outbox import outbox_emit
from apps.geo import config as geo_config
from apps.geo.config import Rules
from apps.geo.terms import is_valid_term, term_end
from apps.players.choices import BlockAuthority
from apps.players.models import Player
from apps.players.services import player_lock, require_authority, restriction_placed
from apps.players.validation import clean_staff_text
from apps.responsible.choices import ChangeStatus, ExclusionKind, LimitKind, LimitPeriod, LimitSource
from apps.responsible.coverage import coverage_copy, coverage_record, person_q
from apps.responsible.models import Exclusion, ExclusionCorrection, Interaction, Limit, LimitChange
from apps.staff.models import StaffUser

DEFAULT_TIMEOUT_HOURS = (24, 24 * 42)
DEFAULT_TERMS = ("6m", "1y", "5y", "permanent")


def rules_for(player: Player, at: datetime | None = None) -> Rules | None:
    snap = geo_config.snapshot()
    code = snap.jurisdiction_code(player.country, player.region)
    return snap.rules_for(code, at or timezone.now()) if code else None


def _in_force(player: Player, now: datetime, kinds: tuple[str, ...]) -> list[Exclusion]:
    """The person's exclusions of these kinds in force now (this account or any with the same identity)."""
    rows = Exclusion.objects.filter(kind__in=kinds, superseded_by=None, starts_at__lte=now).filter(
        models_q_person(player)
    )
    return [e for e in rows if e.released_at is None or e.released_at > now]


def models_q_person(player: Player):  # type: ignore[no-untyped-def]
    """The person's exclusions, as the eligibility check finds them (coverage.py)."""
    return person_q(player)


def _emit(player: Player, type: str, **data: object) -> None:
    outbox_emit(type, key=player.external_id, data={"player": player.external_id, **data})


def offered_terms(rules: Rules | None) -> tuple[str, ...]:
    """The self-exclusion terms a jurisdiction offers (a common set where its rule pack names none)."""
    return rules.self_exclusion_terms if rules and rules.self_exclusion_terms else DEFAULT_TERMS


def timeout_range(rules: Rules | None) -> tuple[int, int]:
    """The shortest and longest time-out a jurisdiction allows, in hours."""
    low = (rules.timeout_min_hours if rules else None) or DEFAULT_TIMEOUT_HOURS[0]
    high = (rules.timeout_max_hours if rules else None) or DEFAULT_TIMEOUT_HOURS[1]
    return low, high


def _reason(reason: str) -> str:
    reason = clean_staff_text("reason", reason or "", multiline=True).strip()
    if not reason:
        raise ValidationFailed("A reason is required.", code="reason_required", fields={"reason": ["Required."]})
    return reason


def _until(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- time-outs and self-exclusions ---------------------------------------------------------------------------


@transaction.atomic
def time_out(*, actor: AuditActor | None, player: Player, hours: int, api_client: str = "") -> Exclusion:
    """A break of ``hours`` within the jurisdiction's range, in force at once; nobody can shorten or end it."""
    player = player_lock(player)
    now = timezone.now()
    rules = rules_for(player, now)
    low, high = timeout_range(rules)
    if not isinstance(hours, int) or isinstance(hours, bool) or not low <= hours <= high:
        raise ValidationFailed(
            f"A time-out here lasts {low} to {high} hours.",
            code="term_not_allowed",
            fields={"hours": [f"Between {low} and {high}."]},
        )
    ends = now + timedelta(hours=hours)
    active = _in_force(player, now, (ExclusionKind.TIME_OUT, ExclusionKind.SELF_EXCLUSION))
    if any(e.released_at is None or e.released_at >= ends for e in active):
        raise Conflict("A longer time-out or a self-exclusion is already in force.", code="exclusion_active")
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
        raise ValidationFailed(
            f"The terms offered here are {', '.join(allowed)}.",
            code="term_not_allowed",
            fields={"term": [f"One of {', '.join(allowed)}."]},
        )
    ends = term_end(term, now)
    for current in _in_force(player, now, (ExclusionKind.SELF_EXCLUSION,)):
        if current.ends_at is None or (ends is not None and current.ends_at >= ends) or current.released_at:
            raise Conflict(
                "A self-exclusion at least as long is already in force; it cannot be shortened.",
                code="exclusion_active",
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
        raise Conflict("There is no self-exclusion in force.", code="no_exclusion")
    running = [e for e in current if e.ends_at is None or e.ends_at > now]
    if running:
        until = [e.ends_at for e in running]
        message = "The self-exclusion has not ended" + (
            "." if None in until else f": it ends {max(u for u in until if u):%Y-%m-%d %H:%M} UTC."
        )
        raise Conflict(message, code="exclusion_active")
    if any(e.return_requested_at for e in current):
        raise Conflict("A return is already requested; the cooling-off is running.", code="cooling_off_pending")
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
        raise PermissionDenied("Only operator exclusions can be lifted.", code="not_liftable")
    if not exclusion.in_force():
        raise Conflict("This exclusion is not in force.", code="not_in_force")
    if exclusion.lift_requested_by_id:
        raise Conflict("A lift is already requested.", code="lift_pending")
    exclusion.lift_requested_by, exclusion.lift_requested_at, exclusion.lift_reason = actor, timezone.now(), reason
    exclusion.save(update_fields=["lift_requested_by", "lift_requested_at", "lift_reason"])
    audit_log(actor=actor, action="rg.lift_requested", target=exclusion.player, data={"exclusion": exclusion.pk})
    return exclusion


@transaction.atomic
def operator_lift_decide(*, actor: StaffUser, exclusion: Exclusion, approve: bool) -> Exclusion:
    """Checker: a different staff member acting for responsible gambling approves (the exclusion ends now) or
    refuses the lift."""
    require_authority(actor, BlockAuthority.RESPONSIBLE_GAMBLING)
    exclusion = Exclusion.objects.select_for_update().get(pk=exclusion.pk)
    if exclusion.kind != ExclusionKind.OPERATOR:  # as the request: a lift request on a player's own never counts
        raise PermissionDenied("Only operator exclusions can be lifted.", code="not_liftable")
    if not exclusion.lift_requested_by_id:
        raise Conflict("No lift is requested.", code="no_lift_request")
    if exclusion.lift_requested_by_id == actor.pk:
        raise Conflict("A second, different staff member must decide.", code="same_approver")
    player = exclusion.player
    if approve:
        exclusion.lift_approved_by, exclusion.released_at = actor, timezone.now()
        exclusion.save(update_fields=["lift_approved_by", "released_at"])
        _emit(player, "player.unblocked", exclusion=exclusion.pk)
    else:
        exclusion.lift_requested_by, exclusion.lift_requested_at, exclusion.lift_reason = None, None, ""
        exclusion.save(update_fields=["lift_requested_by", "lift_requested_at", "lift_reason"])
    audit_log(
        actor=actor,
        action="rg.lift_approved" if approve else "rg.lift_refused",
        target=player,
        data={"exclusion": exclusion.pk},
    )
    return exclusion


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
        raise Conflict("Operator exclusions are lifted (two staff members), not corrected.", code="not_correctable")
    if exclusion.superseded_by_id:
        raise Conflict("This exclusion was already corrected.", code="already_corrected")
    term = (term or "").strip()
    if not is_valid_term(term):
        raise ValidationFailed("Not a term.", code="term_not_allowed", fields={"term": ["e.g. 6m, 1y, 72h."]})
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
    return correction


def _corrected_end(exclusion: Exclusion, term: str, now: datetime) -> datetime | None:
    """The end a corrected term gives from the exclusion's original start; refused if already past."""
    ends_at = term_end(term, exclusion.starts_at)
    if ends_at is not None and ends_at <= now:
        raise ValidationFailed(
            f"With the term {term} from {exclusion.starts_at:%Y-%m-%d} this exclusion would already have ended "
            f"({ends_at:%Y-%m-%d %H:%M} UTC): a correction never ends an exclusion.",
            code="correction_ends_in_past",
            fields={"term": ["Would end in the past."]},
        )
    return ends_at


def _check_offered(exclusion: Exclusion, term: str) -> None:
    """A correction keys in what the player chose, so it must be a term the jurisdiction offered then."""
    rules = rules_for(exclusion.player, exclusion.starts_at)
    if exclusion.kind == ExclusionKind.SELF_EXCLUSION:
        allowed = offered_terms(rules)
        if term not in allowed:
            raise ValidationFailed(
                f"The terms offered there are {', '.join(allowed)}.",
                code="term_not_allowed",
                fields={"term": [f"One of {', '.join(allowed)}."]},
            )
    elif exclusion.kind == ExclusionKind.TIME_OUT:
        low, high = timeout_range(rules)
        hours = int(term[:-1]) if term.endswith("h") and term[:-1].isdigit() else -1
        if not low <= hours <= high:
            raise ValidationFailed(
                f"A time-out there lasts {low} to {high} hours, written like 72h.",
                code="term_not_allowed",
                fields={"term": [f"{low}h to {high}h."]},
            )


@transaction.atomic
def exclusion_correction_decide(*, actor: StaffUser, correction: ExclusionCorrection, approve: bool) -> Exclusion:
    """Checker: a second staff member applies the correction: a new row supersedes the old one."""
    correction = ExclusionCorrection.objects.select_for_update().get(pk=correction.pk)
    if correction.approved is not None:
        raise Conflict("This correction is decided.", code="already_decided")
    if correction.requested_by_id == actor.pk:
        raise Conflict("A second, different staff member must decide.", code="same_approver")
    old = Exclusion.objects.select_for_update().get(pk=correction.exclusion_id)
    correction.decided_by, correction.decided_at, correction.approved = actor, timezone.now(), approve
    correction.save(update_fields=["decided_by", "decided_at", "approved"])
    result = old
    if approve:
        if old.superseded_by_id:
            raise Conflict("This exclusion was already corrected.", code="already_corrected")
        # the world may have moved since the request: the corrected end is checked again now
        ends_at = _corrected_end(old, correction.term, correction.decided_at)
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
        action="rg.correction_applied" if approve else "rg.correction_refused",
        target=old.player,
        data={"exclusion": old.pk, "replacement": result.pk if approve else None},
    )
    return result


# --- limits ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LimitOutcome:
    change: LimitChange
    limit: Limit | None


def parse_limit_value(kind: str, value: object, currency: str) -> Decimal | None:
    """A positive decimal string in the currency's minor unit (whole minutes for session limits); None
    removes the limit."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationFailed(
            "Send the value as a decimal string.", code="limit_invalid", fields={"value": ["A string."]}
        )
    try:
        if DECIMAL_TEXT.fullmatch(value.strip()) is None:
            raise InvalidOperation(value)
        number = Decimal(value.strip())
    except InvalidOperation as exc:
        raise ValidationFailed("Not a number.", code="limit_invalid", fields={"value": ["Not a number."]}) from exc
    if not number.is_finite() or number <= 0:
        raise ValidationFailed("A limit is positive.", code="limit_invalid", fields={"value": ["Must be above 0."]})
    if kind == LimitKind.SESSION:
        if number != number.to_integral_value() or number > 24 * 60:
            raise ValidationFailed(
                "Session limits are whole minutes.", code="limit_invalid", fields={"value": ["1 to 1440 minutes."]}
            )
        return number
    # The size first: quantizing a 27-digit number exceeds the decimal context and raises InvalidOperation.
    if number >= Decimal("1e12") or quantize(number, currency) != number:
        raise ValidationFailed(
            f"Too many decimals for {currency}.", code="limit_invalid", fields={"value": ["Too precise or too big."]}
        )
    return number


def _check_kind_period(kind: str, period: str) -> None:
    fields = {}
    if kind not in LimitKind.values:
        fields["kind"] = [f"One of {', '.join(LimitKind.values)}."]
    if period not in LimitPeriod.values or (period == LimitPeriod.SESSION) != (kind == LimitKind.SESSION):
        fields["period"] = ["day, week or month (session for a session limit)."]
    if fields:
        raise ValidationFailed("Unknown limit.", code="limit_invalid", fields=fields)


def _current_value(limit: Limit | None) -> Decimal | None:
    if limit is None:
        return None
    return Decimal(limit.minutes or 0) if limit.kind == LimitKind.SESSION else limit.amount


def _apply(
    limit: Limit | None,
    player: Player,
    kind: str,
    period: str,
    source: str,
    value: Decimal | None,
    reason: str,
    now: datetime,
) -> Limit | None:
    if limit is not None:
        if value is None:
            limit.removed_at = now
            limit.save(update_fields=["removed_at"])
            return None
        limit.amount = None if kind == LimitKind.SESSION else value
        limit.minutes = int(value) if kind == LimitKind.SESSION else None
        limit.reason, limit.updated_at = reason, now
        limit.save(update_fields=["amount", "minutes", "reason", "updated_at"])
        return limit
    if value is None:
        return None
    return Limit.objects.create(
        player=player,
        kind=kind,
        period=period,
        source=source,
        amount=None if kind == LimitKind.SESSION else value,
        minutes=int(value) if kind == LimitKind.SESSION else None,
        currency="" if kind == LimitKind.SESSION else player.currency,
        reason=reason,
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def limit_set(
    *,
    actor: AuditActor | None,
    player: Player,
    kind: str,
    period: str,
    value: object,
    source: str = LimitSource.PLAYER,
    reason: str = "",
    staff: StaffUser | None = None,
) -> LimitOutcome:
    """Set, lower, raise or remove (``value`` None) a limit.

    The player's own: a new limit or a decrease applies at once; an increase or a removal waits the
    jurisdiction's cooling-off and then the player's confirmation within the window (``limit_confirm``).
    The operator's (staff, with a reason): applies at once.
    """
    _check_kind_period(kind, period)
    if source not in (LimitSource.PLAYER, LimitSource.OPERATOR):
        raise ValidationFailed("Unknown source.", code="limit_invalid", fields={"source": ["player or operator"]})
    if source == LimitSource.OPERATOR:
        reason = _reason(reason)
    number = parse_limit_value(kind, value, player.currency)
    player = player_lock(player)
    now = timezone.now()
    limit = Limit.objects.filter(player=player, kind=kind, period=period, source=source, removed_at=None).first()
    current = _current_value(limit)
    if current is None and number is None:
        raise ValidationFailed(
            "There is no such limit to remove.", code="limit_invalid", fields={"value": ["No limit."]}
        )
    LimitChange.objects.filter(
        player=player, kind=kind, period=period, source=source, status=ChangeStatus.PENDING
    ).update(status=ChangeStatus.CANCELLED, decided_at=now)
    loosening = current is not None and (number is None or number > current)
    change = LimitChange(
        limit=limit,
        player=player,
        kind=kind,
        period=period,
        source=source,
        old_value=current,
        new_value=number,
        requested_at=now,
        requested_by=staff,
        reason=reason,
    )
    if loosening and source == LimitSource.PLAYER:
        rules = rules_for(player, now)
        cooling = timedelta(hours=rules.limit_increase_cooling_off_hours if rules else 24)
        window = timedelta(hours=rules.limit_confirmation_hours if rules else 168)
        change.status, change.effective_at, change.confirm_by = (
            ChangeStatus.PENDING,
            now + cooling,
            now + cooling + window,
        )
        change.save()
        audit_log(
            actor=actor,
            action="rg.limit_increase_requested",
            target=player,
            data={"kind": kind, "period": period, "from": current, "to": number, "effective_at": change.effective_at},
        )
        return LimitOutcome(change=change, limit=limit)
    limit = _apply(limit, player, kind, period, source, number, reason, now)
    change.limit = limit or change.limit
    change.status, change.effective_at, change.decided_at = ChangeStatus.APPLIED, now, now
    change.save()
    audit_log(
        actor=actor,
        action="rg.limit_set",
        target=player,
        data={"kind": kind, "period": period, "source": source, "from": current, "to": number, "reason": reason},
    )
    _emit(player, "limits.changed", kind=kind, period=period, source=source, value=number)
    return LimitOutcome(change=change, limit=limit)


@transaction.atomic
def limit_confirm(*, actor: AuditActor | None, player: Player, change: LimitChange) -> LimitOutcome:
    """The player confirms a pending increase or removal, after its cooling-off and before it lapses."""
    player = player_lock(player)
    change = LimitChange.objects.select_for_update().get(pk=change.pk, player=player)
    now = timezone.now()
    if change.status != ChangeStatus.PENDING:
        raise Conflict(f"This change is {change.status}.", code="change_not_pending")
    if now < change.effective_at:
        raise Conflict(
            f"The cooling-off runs until {change.effective_at:%Y-%m-%d %H:%M} UTC.", code="cooling_off_pending"
        )
    if change.confirm_by and now > change.confirm_by:  # the 15-minute lapse task marks it
        raise Conflict("This change lapsed: it was not confirmed in time.", code="change_lapsed")
    limit = (
        Limit.objects.select_for_update()
        .filter(player=player, kind=change.kind, period=change.period, source=change.source, removed_at=None)
        .first()
    )
    limit = _apply(limit, player, change.kind, change.period, change.source, change.new_value, change.reason, now)
    change.status, change.decided_at = ChangeStatus.APPLIED, now
    change.save(update_fields=["status", "decided_at"])
    audit_log(
        actor=actor,
        action="rg.limit_increase_confirmed",
        target=player,
        data={"kind": change.kind, "period": change.period, "to": change.new_value},
    )
    _emit(
        player, "limits.changed", kind=change.kind, period=change.period, source=change.source, value=change.new_value
    )
    return LimitOutcome(change=change, limit=limit)


@transaction.atomic
def limit_changes_lapse(*, now: datetime | None = None) -> int:
    """Mark pending changes whose confirmation window has passed as lapsed (their limit never changed);
    each lapse is audited."""
    from apps.audit.services import SystemActor

    now = now or timezone.now()
    lapsed = list(
        LimitChange.objects.select_for_update(skip_locked=True).filter(status=ChangeStatus.PENDING, confirm_by__lt=now)
    )
    for change in lapsed:
        change.status, change.decided_at = ChangeStatus.LAPSED, now
        change.save(update_fields=["status", "decided_at"])
        audit_log(
            actor=SystemActor("limit_changes_lapse"),
            action="rg.limit_increase_lapsed",
            target=change.player,
            data={"change": change.pk, "kind": change.kind, "period": change.period},
        )
    return len(lapsed)


@transaction.atomic
def interaction_record(*, actor: StaffUser, player: Player, channel: str, summary: str, outcome: str) -> Interaction:
    from apps.responsible.choices import InteractionChannel

    fields = {}
    if channel not in InteractionChannel.values:
        fields["channel"] = [f"One of {', '.join(InteractionChannel.values)}."]
    if not summary.strip():
        fields["summary"] = ["Required."]
    if not outcome.strip():
        fields["outcome"] = ["Required."]
    if fields:
        raise ValidationFailed("The interaction is incomplete.", fields=fields)
    interaction = Interaction.objects.create(
        player=player, channel=channel, summary=summary.strip(), outcome=outcome.strip()[:200], staff=actor
    )
    audit_log(actor=actor, action="rg.interaction_recorded", target=player, data={"channel": channel})
    return interaction
