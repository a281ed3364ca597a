"""Restrictions: an account's status other than active, and its capability blocks, each on an authority.

Who imposed it, on what authority and why is a ``PlayerRestriction`` row; the status and the booleans on
``Player`` stay the eligibility facts. Lifting a compliance or responsible-gambling restriction needs that
authority and two people (the first call records the request, a second person's call lifts it); the database
refuses a one-person lift too. Side effects of a change: an audit event, a ``player.blocked``/``unblocked``
webhook (never the staff reason), and the restriction hooks (apps.wallet holds open withdrawals).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from apps.audit.services import AuditActor, audit_log
from apps.core.errors import SameApprover, ValidationFailed
from apps.core.outbox import outbox_emit
from apps.players.choices import PROTECTED_AUTHORITIES, BlockAuthority, Capability, PlayerStatus, Visibility
from apps.players.errors import AuthorityInvalid, AuthorityRequired, BlockUnchanged, StatusUnchanged
from apps.players.models import Player, PlayerRestriction
from apps.players.validation import require_reason as _require_reason

STATUS_ACTIONS = {
    PlayerStatus.ACTIVE: "player.reactivated",
    PlayerStatus.SUSPENDED: "player.suspended",
    PlayerStatus.BLOCKED: "player.blocked",
    PlayerStatus.CLOSED: "player.closed",
}


RestrictionHook = Callable[..., object]
_restriction_hooks: list[RestrictionHook] = []


def register_restriction_hook(hook: RestrictionHook) -> RestrictionHook:
    """``hook(actor=, player=, what=, reason=)`` runs in the transaction that suspends, blocks or closes an account
    or blocks its withdrawals (apps.wallet puts the player's open withdrawals on hold there)."""
    if hook not in _restriction_hooks:
        _restriction_hooks.append(hook)
    return hook


def restriction_placed(
    *,
    actor: AuditActor | None,
    player: Player,
    what: str,
    reason: str,
    visibility: str = Visibility.GENERAL,
    authority: str = BlockAuthority.SUPPORT,
) -> None:
    """Tell the other apps that ``player`` may no longer withdraw (``what`` says why: a status or a block).
    A compliance reason is passed with its visibility, so that nobody copies it where others read it, and the
    authority, so that whatever the other app holds is released only on that authority."""
    for hook in _restriction_hooks:
        hook(actor=actor, player=player, what=what, reason=reason, visibility=visibility, authority=authority)


def authority_for(actor: AuditActor | None, authority: str | None) -> str:
    """The authority a restriction is imposed on: the one named (which a staff member must hold), else the
    strongest the staff member holds; the system's own restrictions default to support."""
    from apps.staff.models import StaffUser

    if authority is not None and authority not in BlockAuthority.values:
        raise AuthorityInvalid("Unknown authority.", fields={"authority": ["Unknown."]})
    if not isinstance(actor, StaffUser):
        return authority or BlockAuthority.SUPPORT
    if authority is None:
        held = [a for a in BlockAuthority.values if actor.has_perm(f"players.act_{a}")]
        return held[0] if held else BlockAuthority.SUPPORT
    require_authority(actor, authority)
    return authority


def require_authority(actor: AuditActor | None, authority: str) -> None:
    from apps.staff.models import StaffUser

    if not isinstance(actor, StaffUser) or not actor.has_perm(f"players.act_{authority}"):
        raise AuthorityRequired(
            f"Only staff acting for {BlockAuthority(authority).label} may do this.",
            fields={"authority": [authority]},
        )


def _restrict(
    *, actor: AuditActor | None, player: Player, what: str, status: str, authority: str, reason: str
) -> PlayerRestriction:
    from apps.staff.models import StaffUser

    return PlayerRestriction.objects.create(
        player=player,
        what=what,
        status=status,
        authority=authority,
        reason=reason,
        visibility=Visibility.COMPLIANCE if authority == BlockAuthority.COMPLIANCE else Visibility.GENERAL,
        placed_by=actor if isinstance(actor, StaffUser) else None,
    )


def _lift(*, actor: AuditActor | None, player: Player, restriction: PlayerRestriction | None, reason: str) -> bool:
    """Lift ``restriction`` now (True), or, for a compliance or responsible-gambling one, record the first of
    the two people it needs (False). Both must act for that authority."""
    if restriction is None:
        return True
    restriction = PlayerRestriction.objects.select_for_update().get(pk=restriction.pk)
    now = timezone.now()
    if restriction.authority in PROTECTED_AUTHORITIES:
        require_authority(actor, restriction.authority)
        if restriction.lift_requested_by_id is None:
            restriction.lift_requested_by, restriction.lift_requested_at = actor, now  # type: ignore[assignment]
            restriction.lift_reason = reason
            restriction.save(update_fields=["lift_requested_by", "lift_requested_at", "lift_reason"])
            audit_log(
                actor=actor,
                action="player.restriction_lift_requested",
                target=player,
                data={"restriction": restriction.pk, "what": restriction.what, "authority": restriction.authority},
            )
            return False
        if restriction.lift_requested_by_id == getattr(actor, "pk", None):
            raise SameApprover("A second, different person must confirm the lift.")
    from apps.staff.models import StaffUser

    restriction.lifted_by = actor if isinstance(actor, StaffUser) else None
    restriction.lifted_at = now
    restriction.save(update_fields=["lifted_by", "lifted_at"])
    return True


def _active_restriction(player: Player, what: str) -> PlayerRestriction | None:
    return PlayerRestriction.objects.filter(player=player, what=what, lifted_at=None).first()


@transaction.atomic
def player_set_status(
    *, actor: AuditActor | None, player: Player, status: str, reason: str, authority: str | None = None
) -> Player:
    """Suspend, block, close or reactivate an account, on an authority (see ``BlockAuthority``).

    Reactivating an account restricted on compliance or responsible-gambling authority needs two people of
    that authority: the first call records the request (the account stays as it is), the second lifts it.
    Moving between restrictive statuses keeps the original authority.
    """
    reason = _require_reason(reason)
    if status not in PlayerStatus.values:
        raise ValidationFailed(f"Unknown status {status!r}.", fields={"status": ["Unknown status."]})
    player = Player.objects.select_for_update().get(pk=player.pk)
    if player.status == status:
        raise StatusUnchanged(f"The account is already {status}.")
    old = player.status
    current = _active_restriction(player, PlayerRestriction.STATUS)
    used: str | None
    if status == PlayerStatus.ACTIVE:
        if not _lift(actor=actor, player=player, restriction=current, reason=reason):
            return player
        used = current.authority if current else None
    elif current is None:
        used = authority_for(actor, authority)
        current = _restrict(
            actor=actor, player=player, what=PlayerRestriction.STATUS, status=status, authority=used, reason=reason
        )
    else:
        used = current.authority
        current.status = status
        current.save(update_fields=["status"])
    player.status, player.status_reason = status, reason
    player.save(update_fields=["status", "status_reason", "updated_at"])
    audit_log(
        actor=actor,
        action=STATUS_ACTIONS[PlayerStatus(status)],
        target=player,
        data={"old": old, "new": status, "reason": reason, "authority": used, **_visibility_of(current)},
    )
    # the platform ends the player's sessions at once; staff reasons never leave the backoffice
    event = "player.unblocked" if status == PlayerStatus.ACTIVE else "player.blocked"
    outbox_emit(event, key=player.external_id, data={"player": player.external_id, "status": status})
    if status != PlayerStatus.ACTIVE:
        restriction_placed(
            actor=actor,
            player=player,
            what=f"account {status}",
            reason=reason,
            visibility=current.visibility if current else Visibility.GENERAL,
            authority=current.authority if current else BlockAuthority.SUPPORT,
        )
    return player


def _visibility_of(restriction: PlayerRestriction | None) -> dict[str, str]:
    """Audit data of a compliance restriction says so: audit views show its reason to compliance staff only."""
    if restriction is not None and restriction.visibility == Visibility.COMPLIANCE:
        return {"visibility": Visibility.COMPLIANCE}
    return {}


@transaction.atomic
def player_set_block(
    *,
    actor: AuditActor | None,
    player: Player,
    capability: str,
    blocked: bool,
    reason: str,
    authority: str | None = None,
) -> Player:
    """Block or unblock one capability, on an authority; unblocking a compliance or responsible-gambling block
    needs two people of that authority (the first call records the request)."""
    reason = _require_reason(reason)
    if capability not in Capability.values:
        raise ValidationFailed(f"Unknown capability {capability!r}.", fields={"capability": ["Unknown."]})
    player = Player.objects.select_for_update().get(pk=player.pk)
    field = f"blocked_{capability}"
    if getattr(player, field) == blocked:
        raise BlockUnchanged("Nothing to change.")
    current = _active_restriction(player, capability)
    used: str | None
    if blocked:
        used = authority_for(actor, authority)
        current = _restrict(actor=actor, player=player, what=capability, status="", authority=used, reason=reason)
    else:
        if not _lift(actor=actor, player=player, restriction=current, reason=reason):
            return player
        used = current.authority if current else None
    setattr(player, field, blocked)
    player.save(update_fields=[field, "updated_at"])
    audit_log(
        actor=actor,
        action=f"player.{'blocked' if blocked else 'unblocked'}_for_{capability}",
        target=player,
        data={
            "capability": capability,
            "blocked": blocked,
            "reason": reason,
            "authority": used,
            **_visibility_of(current),
        },
    )
    outbox_emit(
        "player.blocked" if blocked else "player.unblocked",
        key=player.external_id,
        data={"player": player.external_id, "capabilities": [capability]},
    )
    if blocked and capability == Capability.WITHDRAW:
        restriction_placed(
            actor=actor,
            player=player,
            what="withdrawals blocked",
            reason=reason,
            visibility=current.visibility if current else Visibility.GENERAL,
            authority=current.authority if current else BlockAuthority.SUPPORT,
        )
    return player
