"""Re-screening the player base after a list changes: in chunks by player id, so a job can be resumed from the last
id it finished and show progress (the lead's Celery task calls ``rescreen_chunk`` until it answers None).

Two modes. The full one screens every player against the current snapshots (the cached index). The delta one
(``snapshot_id=``) screens every player against only the entries that snapshot added or changed: a removed entry
closes nothing (an open hit on it stays open for a human), an unchanged entry cannot raise anything a previous
screen did not, so the work is proportional to the change (and an empty change is no work at all).
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.audit.services import AuditActor
from apps.screening.hits import record_matches
from apps.screening.index import SCREENED_TYPES, Index, IndexedEntry
from apps.screening.match import BirthDate
from apps.screening.models import ListEntry, ListSnapshot
from apps.screening.services import index_or_fail, threshold


@dataclass(frozen=True)
class ChunkResult:
    last_id: int | None  # None: nothing left after this chunk
    screened: int
    with_hits: int


def delta_index(snapshot: ListSnapshot) -> Index:
    """An index of the entries this snapshot added or changed (individuals only)."""
    ids = [*snapshot.added, *snapshot.changed]
    rows = ListEntry.objects.filter(snapshot=snapshot, entry_id__in=ids, entry_type__in=SCREENED_TYPES)
    code = snapshot.watchlist.code
    return Index(
        (
            (
                IndexedEntry(
                    e.pk,
                    code,
                    e.entry_id,
                    e.content_hash,
                    e.entry_type,
                    e.name,
                    tuple(e.birth_dates),
                    tuple(e.countries),
                ),
                [e.name, *e.aliases],
            )
            for e in rows
        ),
        key=("delta", snapshot.pk),
    )


def rescreen_chunk(
    *, after_id: int = 0, size: int = 5000, actor: AuditActor | None, snapshot_id: int | None = None
) -> ChunkResult:
    """Screen the ``size`` players after ``after_id``; hits are written as ``screen_player`` writes them."""
    from apps.players.models import Player

    index = delta_index(ListSnapshot.objects.select_related("watchlist").get(pk=snapshot_id)) if snapshot_id else None
    if index is None:
        index = index_or_fail()
    elif not len(index):
        return ChunkResult(None, 0, 0)
    th = threshold()
    players = list(
        Player.objects.filter(id__gt=after_id)
        .order_by("id")
        .only("id", "first_name", "last_name", "date_of_birth", "country")[:size]
    )
    with_hits = 0
    for player in players:
        matches = index.screen(
            f"{player.first_name} {player.last_name}",
            BirthDate.parse(player.date_of_birth),
            player.country or None,
            threshold=th,
        )
        if matches:
            with_hits += 1
            record_matches(player, matches, actor=actor)
    last = players[-1].pk if len(players) == size else None
    return ChunkResult(last, len(players), with_hits)
