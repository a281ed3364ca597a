"""Screening stored players, and the review of their hits (confirm, or false positive remembered).

``screen_player(player, actor=...)`` is what the player services call at registration and after a change of name
or birth date (and what a re-screen calls per player): it screens against the current snapshots and writes one
open ``ScreeningHit`` per entry matched, in one transaction, audited (``screening.hit_opened``). A pair already
reviewed is not raised again while nothing changed: a false positive (or a confirmation) stands for the same
(player, list, entry id) as long as the player's normalised name and birth date (``subject_hash``) and the
entry's content (``entry_hash``) are the ones it was decided on. A change on either side screens afresh. An open
hit is never closed by a re-screen, not even when its entry leaves the list: a human closes it.

``review_hit(hit, decision=..., note=..., actor=...)`` records the decision (``screening.hit_confirmed`` or
``screening.hit_false_positive``). What a confirmation sets off (a sanctions case, the account restricted, KYC
level 3 required) belongs to the compliance services; the caller runs them after this returns, in the same
transaction if it opens one around both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.services import AuditActor, audit_log
from apps.screening.errors import HitNotOpen, HitReviewNotPermitted, ReviewDecisionUnknown, ReviewNoteRequired
from apps.screening.index import Match
from apps.screening.models import HitState, ScreeningHit, WatchList
from apps.screening.services import screen_person, subject_hash

DECISIONS = (HitState.CONFIRMED, HitState.FALSE_POSITIVE)


def player_subject(player: Any) -> str:
    return subject_hash(first_name=player.first_name, last_name=player.last_name, birth_date=player.date_of_birth)


def screen_player(player: Any, *, actor: AuditActor | None) -> list[ScreeningHit]:
    """The player's open hits after screening them now (new ones written). ``ListMissing`` when no list is
    imported: the caller fails closed."""
    matches = screen_person(
        name=f"{player.first_name} {player.last_name}", birth_date=player.date_of_birth, country=player.country
    )
    return record_matches(player, matches, actor=actor)


def record_matches(player: Any, matches: list[Match], *, actor: AuditActor | None) -> list[ScreeningHit]:
    subject = player_subject(player)
    codes = {m.entry.list_code for m in matches}
    lists = {w.code: w for w in WatchList.objects.filter(code__in=codes)}
    out = []
    with transaction.atomic():
        for m in matches:
            if m.entry.pk is None:
                raise ValueError("a match from an index not built from the database cannot be stored")
            watchlist = lists[m.entry.list_code]
            previous = (
                ScreeningHit.objects.select_for_update()
                .filter(player=player, watchlist=watchlist, entry_id=m.entry.entry_id)
                .order_by("-id")
                .first()
            )
            if previous is not None and previous.state == HitState.OPEN:
                out.append(previous)
                continue
            if (
                previous is not None
                and previous.state in DECISIONS
                and previous.subject_hash == subject
                and previous.entry_hash == m.entry.content_hash
            ):
                continue  # decided on this very name, birth date and entry: remembered
            hit = ScreeningHit.objects.create(
                player=player,
                watchlist=watchlist,
                matched_entry_id=m.entry.pk,
                entry_id=m.entry.entry_id,
                entry_hash=m.entry.content_hash,
                subject_hash=subject,
                matched_name=m.evidence.matched_name[:500],
                score=Decimal(str(round(m.score, 3))),
                evidence=m.evidence.as_dict(),
            )
            audit_log(
                actor=actor,
                action="screening.hit_opened",
                target=hit,
                data={"player": player.pk, "list": watchlist.code, "entry_id": hit.entry_id, "score": str(hit.score)},
            )
            out.append(hit)
    return out


def review_hit(hit: ScreeningHit, *, decision: str, note: str, actor: Any) -> ScreeningHit:
    if not getattr(actor, "has_perm", None) or not actor.has_perm("screening.review_screeninghit"):
        raise HitReviewNotPermitted("Only compliance staff review screening hits.")
    if decision not in DECISIONS:
        raise ReviewDecisionUnknown(f"decision {decision!r}: choose confirmed or false_positive")
    if not note.strip():
        raise ReviewNoteRequired("Say why: the note is what an auditor reads.")
    with transaction.atomic():
        locked = ScreeningHit.objects.select_for_update().get(pk=hit.pk)
        if locked.state != HitState.OPEN:
            raise HitNotOpen(f"This hit is already {locked.get_state_display().lower()}.")
        locked.state = decision
        locked.review_note = note.strip()
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["state", "review_note", "reviewed_by", "reviewed_at"])
        audit_log(
            actor=actor,
            action=f"screening.hit_{decision}",
            target=locked,
            data={"player": locked.player_id, "list_entry": locked.entry_id, "note": locked.review_note},
        )
    return locked
