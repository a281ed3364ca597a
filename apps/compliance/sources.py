"""Cases that other apps' events open: enhanced due diligence from KYC, responsible gambling from its flags.

Registered from ``ComplianceConfig.ready`` on the hooks those apps offer (they know nothing of cases): each runs in
the transaction of the event that fired it, so the case commits with it or not at all, and goes through
``cases.case_open_or_attach`` (the player's open case of the type, or a new one). Screening hits (issue 17) and
bonus abuse (issue 15) come through the same function when they land.

* KYC: a requirement of level 3 (enhanced due diligence: deposits over the EDD threshold, a screening match, a
  high-risk country, or asked) opens a ``kyc_edd`` case, medium priority; one asked from a case or by a confirmed
  screening match opens nothing (the case that asked is the work).
* Responsible gambling: a limit fully used (``limit_reached``) opens a ``responsible_gambling`` case, low
  priority, to review the player's play and decide whether to interact; 80 % flags stay on the start page.
"""

from __future__ import annotations

from typing import Any

from apps.audit.services import SystemActor
from apps.compliance.choices import CaseSource, CaseType, Priority

ACTOR = SystemActor("compliance sources")


def on_requirement(requirement: Any) -> None:
    from apps.compliance.cases import case_open_or_attach
    from apps.kyc.choices import Level, Trigger

    if requirement.level < Level.ENHANCED or requirement.trigger in (Trigger.COMPLIANCE, Trigger.SCREENING_MATCH):
        return  # asked from a case, or by a confirmed screening match (its sanctions case is the work)
    case_open_or_attach(
        actor=ACTOR,
        player=requirement.player,
        case_type=CaseType.KYC_EDD,
        source=CaseSource.KYC,
        title="Enhanced due diligence",
        text=f"KYC level 3 required ({requirement.get_trigger_display().lower()}): {requirement.reason}",
        priority=Priority.MEDIUM,
    )


def on_flag(flag: Any) -> None:
    from apps.compliance.cases import case_open_or_attach
    from apps.players.models import Player
    from apps.responsible.choices import FlagKind

    if flag.kind != FlagKind.LIMIT_REACHED:
        return
    detail = flag.detail or {}
    what = " / ".join(str(detail[k]) for k in ("kind", "period") if detail.get(k)) or "a limit"
    case_open_or_attach(
        actor=ACTOR,
        player=Player.objects.get(pk=flag.player_id),
        case_type=CaseType.RESPONSIBLE_GAMBLING,
        source=CaseSource.RESPONSIBLE_GAMBLING,
        title="Limit fully used",
        text=f"The player used all of their {what} limit ({flag.period_key}).",
        priority=Priority.LOW,
    )


def on_bonus_flag(flag: Any) -> None:
    """A bonus-abuse flag opens (or joins) the player's fraud case."""
    from apps.compliance.cases import case_open_or_attach

    others = f" with player(s) {', '.join(map(str, flag.others[:10]))}" if flag.others else ""
    case_open_or_attach(
        actor=ACTOR,
        player=flag.player,
        case_type=CaseType.FRAUD,
        source=CaseSource.BONUS_ABUSE,
        title="Bonus abuse",
        text=f"{flag.get_kind_display()}{others} (bonus #{flag.bonus_id}): {flag.evidence}",
        priority=Priority.MEDIUM,
    )


def register() -> None:
    from apps.bonuses.flags import register_flag_hook as register_bonus_flag_hook
    from apps.kyc.levels import register_requirement_hook
    from apps.responsible.checks import register_flag_hook

    register_requirement_hook(on_requirement)
    register_flag_hook(on_flag)
    register_bonus_flag_hook(on_bonus_flag)
