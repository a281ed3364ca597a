"""Actions from a case, through the services that own them: hold the player's withdrawals (wallet), restrict the
account (players), require enhanced due diligence (KYC level 3), impose an operator exclusion (responsible).

Each runs in the case's transaction, on the compliance authority (so only compliance staff, and two of them,
lift it), and is written to the case's timeline and the audit trail. What other staff read is neutral: a
withdrawal held from a case says "Held for review" to Finance, a suspension shows its reason only to staff with
``players.view_compliance``, and the KYC requirement tells the platform "asked by the operator" (never that a case
exists: the tipping-off wall).

The analyst's reason stays on the case (its timeline and the compliance audit event). The owning services are
handed a neutral text wherever they keep a reason without compliance visibility: an operator exclusion's reason
is on the player page and in the audit views of Support, Finance, KYC and the Administrators, and a KYC
requirement's reason is KYC's record, open to KYC's screens. Only the suspension, whose reason the players app
shows to ``players.view_compliance`` alone, carries the analyst's own words.
"""

from __future__ import annotations

from django.db import transaction

from apps.compliance.cases import _event, _guarded, _text
from apps.compliance.choices import CaseAction, CaseEventKind
from apps.compliance.errors import CaseActionInvalid, CaseNotPermitted
from apps.compliance.models import Case
from apps.players.choices import BlockAuthority, PlayerStatus
from apps.staff.models import StaffUser

PERMISSION = "compliance.case_actions"
NEUTRAL_HOLD = "Held for review"
NEUTRAL_EXCLUSION = "Operator decision"
NEUTRAL_EDD = "Enhanced due diligence asked by the operator"
HOLD_KIND = "review"


@transaction.atomic
def case_action(*, actor: StaffUser, case: Case, action: str, reason: str) -> dict[str, object]:
    """Take ``action`` (a ``CaseAction``) for the case's player, with a reason kept on the case. Returns what it
    did, for the message (``{"held": 2}``, ``{"status": "suspended"}`` ...)."""
    from apps.audit.services import audit_log

    if action not in CaseAction.values:
        raise CaseActionInvalid(f"Unknown action {action!r}.", fields={"action": ["Unknown."]})
    case = _guarded(actor, case)
    if not actor.has_perm(PERMISSION):
        raise CaseNotPermitted("You may not take actions from cases.")
    if case.player_id is None:
        raise CaseActionInvalid("This case has no player to act on.", fields={"action": ["No player."]})
    reason = _text(reason, field="reason", required=True)
    player = case.player
    assert player is not None
    done: dict[str, object]
    if action == CaseAction.HOLD_WITHDRAWALS:
        done = {"held": _hold_withdrawals(actor, player.pk)}
    elif action == CaseAction.RESTRICT_ACCOUNT:
        from apps.players.restrictions import player_set_status

        player_set_status(
            actor=actor,
            player=player,
            status=PlayerStatus.SUSPENDED,
            reason=reason,
            authority=BlockAuthority.COMPLIANCE,
        )
        done = {"status": PlayerStatus.SUSPENDED}
    elif action == CaseAction.REQUIRE_EDD:
        from apps.kyc.choices import Level
        from apps.kyc.levels import requirement_ask

        requirement = requirement_ask(
            actor=actor, player=player, level=Level.ENHANCED, reason=NEUTRAL_EDD, compliance=True
        )
        done = {"requirement": requirement.pk if requirement is not None else None}
    else:
        from apps.responsible.services.exclusions import operator_exclude

        exclusion = operator_exclude(actor=actor, player=player, reason=NEUTRAL_EXCLUSION)
        done = {"exclusion": exclusion.pk}
    label = CaseAction(action).label
    _event(case, CaseEventKind.ACTION, actor, f"{label}: {reason}", action=action, **done)
    audit_log(
        actor=actor,
        action="compliance.case_action",
        target=case,
        data={"case": case.pk, "action": action, "reason": reason, "visibility": "compliance", **done},
    )
    return done


def _hold_withdrawals(actor: StaffUser, player_id: int) -> int:
    from apps.wallet.models import Withdrawal
    from apps.wallet.services import OPEN, withdrawal_place_hold

    held = 0
    for withdrawal in Withdrawal.objects.filter(player_id=player_id, status__in=OPEN).order_by("id"):
        withdrawal_place_hold(
            actor=actor,
            withdrawal=withdrawal,
            reason=NEUTRAL_HOLD,
            kind=HOLD_KIND,
            authority=BlockAuthority.COMPLIANCE,
        )
        held += 1
    return held
