"""Identity edits of an account an exclusion in force covers: a second person, and the exclusion stays.

A new name or birth date changes the account's identity fingerprint, which used to be enough to free a
self-excluded person's second account. So ``player_update`` asks this module first (a profile guard registered
in ``ResponsibleConfig.ready``):

* a name or birth-date edit of a covered account is held: recorded as an ``IdentityChangeRequest`` (the maker,
  the reason, the whole edit) and not applied; the staff member sees ``second_person_required``;
* a different staff member with ``responsible.decide_identity_change`` applies it (``player_update`` runs with
  the approved request) or refuses it (``identity_change_decide``);
* whatever edit is applied to a covered account (an approved identity edit, or a new e-mail or phone, which
  needs no second person), the account is recorded in the coverage of every exclusion that covers it first, so
  the edit never takes it out.

Every step is audited.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Field
from django.utils import timezone

from apps.audit.services import AuditActor, audit_log
from apps.core.errors import PermissionDenied, ReasonRequired, SameApprover
from apps.players.models import Player
from apps.players.services import IDENTITY_FIELDS, ChangeHeld, player_update
from apps.responsible.coverage import coverage_pin, covering_in_force
from apps.responsible.errors import AlreadyDecided, NothingToChange, StaffOnly
from apps.responsible.models import IdentityChangeRequest
from apps.staff.models import StaffUser

DECIDE_PERMISSION = "responsible.decide_identity_change"


def hold_identity_edit(
    *, actor: AuditActor | None, player: Player, diff: dict[str, dict[str, Any]], reason: str, approval: Any
) -> ChangeHeld | None:
    """The profile guard (see ``apps.players.services.register_profile_guard``)."""
    covering = covering_in_force(player)
    if not covering:
        return None
    if set(diff) & set(IDENTITY_FIELDS) and not _approves(approval, player, diff):
        request = identity_change_request(actor=actor, player=player, diff=diff, reason=reason, exclusions=covering)
        return ChangeHeld(
            f"This account is covered by an exclusion in force: a name or birth-date change needs a second person. "
            f"Nothing was changed; request #{request.pk} waits in the identity change queue.",
            fields={name: ["Needs a second person."] for name in diff if name in IDENTITY_FIELDS},
        )
    pinned = coverage_pin(player, covering)
    if pinned:
        audit_log(
            actor=actor,
            action="rg.coverage_recorded",
            target=player,
            data={"exclusions": pinned, "before": sorted(diff)},
        )
    return None


def _approves(approval: Any, player: Player, diff: dict[str, dict[str, Any]]) -> bool:
    """Only the approved request for this very edit lets it through."""
    return (
        isinstance(approval, IdentityChangeRequest)
        and approval.approved is True
        and approval.player_id == player.pk
        and approval.decided_by_id is not None
        and approval.decided_by_id != approval.requested_by_id
        and all(name in approval.changes and _new_values(approval)[name] == d["new"] for name, d in diff.items())
    )


@transaction.atomic
def identity_change_request(
    *,
    actor: AuditActor | None,
    player: Player,
    diff: dict[str, dict[str, Any]],
    reason: str,
    exclusions: list[int] | None = None,
) -> IdentityChangeRequest:
    """Maker: record a held profile edit (``diff``: field -> {old, new}) for a second person to decide."""
    if not isinstance(actor, StaffUser):
        raise StaffOnly("Only staff members correct a player's identity.")
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired("A reason is required.", fields={"reason": ["Required."]})
    if not diff:
        raise NothingToChange("Nothing to change.")
    request = IdentityChangeRequest.objects.create(
        player=player,
        changes=diff,
        reason=reason,
        exclusion_ids=exclusions if exclusions is not None else covering_in_force(player),
        requested_by=actor,
    )
    audit_log(
        actor=actor,
        action="rg.identity_change_requested",
        target=player,
        data={"request": request.pk, "changes": diff, "reason": reason, "exclusions": request.exclusion_ids},
    )
    return request


def _new_values(request: IdentityChangeRequest) -> dict[str, Any]:
    """The edit's new values as the model holds them (the JSON has dates as text)."""
    values = {}
    for name, change in request.changes.items():
        model_field = Player._meta.get_field(name)
        assert isinstance(model_field, Field)
        values[name] = model_field.to_python(change["new"])
    return values


@transaction.atomic
def identity_change_decide(
    *, actor: StaffUser, request: IdentityChangeRequest, approve: bool, reason: str = ""
) -> IdentityChangeRequest:
    """Checker: a different staff member with the permission applies the held edit (through ``player_update``,
    which records the account in its exclusions' coverage first) or refuses it (a refusal needs a reason, kept in
    the audit event: 400 ``reason_required``)."""
    if not actor.has_perm(DECIDE_PERMISSION):
        raise PermissionDenied("You may not decide identity changes.")
    request = IdentityChangeRequest.objects.select_for_update().get(pk=request.pk)
    if request.approved is not None:
        raise AlreadyDecided("This identity change is decided.")
    if request.requested_by_id == actor.pk:
        raise SameApprover("A second, different staff member must decide.")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ReasonRequired("A reason is required to refuse an identity change.", fields={"reason": ["Required."]})
    request.decided_by, request.decided_at, request.approved = actor, timezone.now(), approve
    request.save(update_fields=["decided_by", "decided_at", "approved"])
    if approve:
        player_update(
            actor=actor,
            player=request.player,
            changes=_new_values(request),
            staff=True,
            reason=f"{request.reason} (identity change #{request.pk}, requested by {request.requested_by})",
            approval=request,
        )
    audit_log(
        actor=actor,
        action="rg.identity_change_applied" if approve else "rg.identity_change_refused",
        target=request.player,
        data={"request": request.pk, "requested_by": request.requested_by_id, **({"reason": reason} if reason else {})},
    )
    return request
