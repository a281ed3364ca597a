"""Screening wired into the player services and the compliance work.

- **Registration.** A registration check screens the candidate before anything is stored; with no watchlist
  imported it refuses the registration (``screening_unavailable``: fail closed, no unscreened player gets in)
  unless ``SCREENING_REQUIRED`` is off (development without lists, and the test suite, where the screening tests
  turn it on). A match never refuses a registration: that would tell the person they are listed (tipping off).
  The registered hook records the candidate's matches as open hits, in the registration's transaction.
- **Name or birth-date change.** A profile guard screens the new identity in the edit's transaction: the hits
  are recorded with it; with no watchlist the edit is refused (``screening_list_missing``) and nothing changes.
- **Review.** ``hit_confirm`` confirms a hit and, in the same transaction, opens (or joins) the player's
  ``sanctions`` case (high priority), suspends the account on the compliance authority (the reason shown only to
  compliance) and requires KYC level 3 (trigger ``screening_match``, told to the platform as "asked by the
  operator"). ``hit_false_positive`` remembers the (player, entry) pair until the name, birth date or entry
  changes (``apps.screening.hits``).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.screening.errors import ListMissing
from apps.screening.models import HitState, ScreeningHit

IDENTITY = ("first_name", "last_name", "date_of_birth")
EDD_DUE_DAYS = 30


def required() -> bool:
    return bool(getattr(settings, "SCREENING_REQUIRED", True))


def check_registration(candidate: Any, rules: Any) -> dict[str, list[str]]:
    """Before a registration is stored: screen the candidate (the matches are kept on it for the hook)."""
    from apps.screening.services import screen_person

    try:
        candidate._screening_matches = screen_person(
            name=f"{candidate.first_name} {candidate.last_name}",
            birth_date=candidate.date_of_birth,
            country=candidate.country,
        )
    except ListMissing:
        if not required():
            candidate._screening_matches = None
            return {}
        return {"non_field_errors": ["screening_unavailable: the watchlists could not be checked; try again later"]}
    return {}


def on_registered(*, actor: Any, player: Any, rules: Any) -> None:
    from apps.screening.hits import record_matches

    matches = getattr(player, "_screening_matches", None)
    if matches:
        record_matches(player, matches, actor=actor)


def guard_identity_change(*, actor: Any, player: Any, diff: dict[str, Any], reason: str, approval: Any) -> None:
    """A new name or birth date is screened before it is saved (in the edit's transaction)."""
    from apps.screening.hits import screen_player

    if not set(diff) & set(IDENTITY):
        return None
    try:
        screen_player(player, actor=actor)  # ``player`` carries the new values
    except ListMissing:
        if required():
            raise
    return None


@transaction.atomic
def hit_confirm(*, actor: Any, hit: ScreeningHit, note: str) -> ScreeningHit:
    """Confirm a hit, open the sanctions case, restrict the account and require level 3: all or nothing."""
    from apps.compliance.cases import case_open_or_attach
    from apps.compliance.choices import CaseSource, CaseType, Priority
    from apps.kyc.choices import Level, Trigger
    from apps.kyc.levels import requirement_raise
    from apps.players.choices import BlockAuthority, PlayerStatus
    from apps.players.errors import StatusUnchanged
    from apps.players.restrictions import player_set_status
    from apps.screening.hits import review_hit

    hit = review_hit(hit, decision=HitState.CONFIRMED, note=note, actor=actor)
    player = hit.player
    case, _ = case_open_or_attach(
        actor=actor,
        player=player,
        case_type=CaseType.SANCTIONS,
        source=CaseSource.SANCTIONS,
        title=f"Sanctions match: {hit.matched_name}"[:200],
        text=f"{hit.watchlist.code} entry {hit.entry_id}, score {hit.score}: {hit.review_note}",
        priority=Priority.HIGH,
    )
    with contextlib.suppress(StatusUnchanged):  # already suspended: it stays so
        player_set_status(
            actor=actor,
            player=player,
            status=PlayerStatus.SUSPENDED,
            reason=f"Screening match confirmed (case #{case.pk})",
            authority=BlockAuthority.COMPLIANCE,
        )
    requirement_raise(
        actor=actor,
        player=player,
        level=Level.ENHANCED,
        trigger=Trigger.SCREENING_MATCH,
        due_at=timezone.now() + timedelta(days=EDD_DUE_DAYS),
        restricts=("withdraw",),
        reason=f"screening match confirmed (case #{case.pk})",
    )
    return hit


def hit_false_positive(*, actor: Any, hit: ScreeningHit, note: str) -> ScreeningHit:
    from apps.screening.hits import review_hit

    return review_hit(hit, decision=HitState.FALSE_POSITIVE, note=note, actor=actor)


def register() -> None:
    from apps.players.services import register_profile_guard, register_registered_hook, register_registration_check

    register_registration_check(check_registration)
    register_registered_hook(on_registered)
    register_profile_guard(guard_identity_change)
