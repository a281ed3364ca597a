"""Limits: set (tightening at once, loosening after a cooling-off and a confirmation), confirm, lapse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from apps.audit.services import AuditActor, audit_log
from apps.core.money import DECIMAL_TEXT, quantize
from apps.players.models import Player
from apps.players.services import player_lock
from apps.responsible.choices import ChangeStatus, LimitKind, LimitPeriod, LimitSource
from apps.responsible.errors import ChangeLapsed, ChangeNotPending, CoolingOffPending, LimitInvalid
from apps.responsible.models import Limit, LimitChange
from apps.responsible.services._common import _emit, _reason, rules_for
from apps.staff.models import StaffUser


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
        raise LimitInvalid("Send the value as a decimal string.", fields={"value": ["A string."]})
    try:
        if DECIMAL_TEXT.fullmatch(value.strip()) is None:
            raise InvalidOperation(value)
        number = Decimal(value.strip())
    except InvalidOperation as exc:
        raise LimitInvalid("Not a number.", fields={"value": ["Not a number."]}) from exc
    if not number.is_finite() or number <= 0:
        raise LimitInvalid("A limit is positive.", fields={"value": ["Must be above 0."]})
    if kind == LimitKind.SESSION:
        if number != number.to_integral_value() or number > 24 * 60:
            raise LimitInvalid("Session limits are whole minutes.", fields={"value": ["1 to 1440 minutes."]})
        return number
    # The size first: quantizing a 27-digit number exceeds the decimal context and raises InvalidOperation.
    if number >= Decimal("1e12") or quantize(number, currency) != number:
        raise LimitInvalid(f"Too many decimals for {currency}.", fields={"value": ["Too precise or too big."]})
    return number


def _check_kind_period(kind: str, period: str) -> None:
    fields = {}
    if kind not in LimitKind.values:
        fields["kind"] = [f"One of {', '.join(LimitKind.values)}."]
    if period not in LimitPeriod.values or (period == LimitPeriod.SESSION) != (kind == LimitKind.SESSION):
        fields["period"] = ["day, week or month (session for a session limit)."]
    if fields:
        raise LimitInvalid("Unknown limit.", fields=fields)


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
        raise LimitInvalid("Unknown source.", fields={"source": ["player or operator"]})
    if source == LimitSource.OPERATOR:
        reason = _reason(reason)
    number = parse_limit_value(kind, value, player.currency)
    player = player_lock(player)
    now = timezone.now()
    limit = Limit.objects.filter(player=player, kind=kind, period=period, source=source, removed_at=None).first()
    current = _current_value(limit)
    if current is None and number is None:
        raise LimitInvalid("There is no such limit to remove.", fields={"value": ["No limit."]})
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
        raise ChangeNotPending(f"This change is {change.status}.")
    if now < change.effective_at:
        raise CoolingOffPending(f"The cooling-off runs until {change.effective_at:%Y-%m-%d %H:%M} UTC.")
    if change.confirm_by and now > change.confirm_by:  # the 15-minute lapse task marks it
        raise ChangeLapsed("This change lapsed: it was not confirmed in time.")
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
