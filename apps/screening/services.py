"""Screening people against the current watchlist snapshots: the functions other apps call.

``screen_person(name=..., birth_date=..., country=...)`` answers the matches at or above the threshold
(``SCREENING_THRESHOLD``, 0.70 by default), best first, and stores nothing: a customer file, a partner's list or a
registration form can be screened with it. ``screen_player(player, actor=...)`` screens a stored player and
records a ``ScreeningHit`` per new match (unless that pair was marked a false positive for the same name, birth
date and entry content); the player services call it at registration and on a name or birth-date change.
Both fail closed: with no list imported they raise ``ListMissing`` rather than answer "no match".
"""

from __future__ import annotations

import hashlib
from datetime import date

from django.conf import settings

from apps.screening.errors import ListMissing
from apps.screening.index import Index, Match, current_index
from apps.screening.match import BirthDate
from apps.screening.normalize import tokens

DEFAULT_THRESHOLD = 0.70


def threshold() -> float:
    """``settings.SCREENING_THRESHOLD`` (a score at or above it is a hit for review), 0.70 when unset."""
    return float(getattr(settings, "SCREENING_THRESHOLD", DEFAULT_THRESHOLD))


def index_or_fail() -> Index:
    index = current_index()
    if not index.key:  # no list has a current snapshot (a list of entities only screens people against nothing)
        raise ListMissing("No watchlist has been imported: screening cannot run, so nothing is let through.")
    return index


def screen_person(
    *,
    name: str,
    birth_date: date | str | int | None = None,
    country: str | None = None,
    limit: int = 10,
    min_score: float | None = None,
) -> list[Match]:
    """Matches for one person (full name in any order; a birth date as a date, "YYYY-MM-DD", "YYYY" or None)."""
    return index_or_fail().screen(
        name,
        BirthDate.parse(birth_date),
        country or None,
        threshold=threshold() if min_score is None else min_score,
        limit=limit,
    )


def subject_hash(*, first_name: str, last_name: str, birth_date: date | None) -> str:
    """What a false positive is remembered against: the normalised name and the birth date."""
    body = f"{' '.join(sorted(tokens(f'{first_name} {last_name}')))}|{birth_date.isoformat() if birth_date else ''}"
    return hashlib.sha256(body.encode()).hexdigest()
