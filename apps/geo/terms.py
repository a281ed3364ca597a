"""Durations written in rule packs: time-out and self-exclusion terms such as ``24h``, ``7d``, ``6w``, ``6m``,
``1y``, or ``permanent`` / ``indefinite`` (no end)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

OPEN_ENDED = frozenset({"permanent", "indefinite"})
_TERM = re.compile(r"^([1-9][0-9]{0,3})([hdwmy])$")


def is_valid_term(term: str) -> bool:
    return term in OPEN_ENDED or _TERM.match(term) is not None


def term_end(term: str, start: datetime) -> datetime | None:
    """When a term that starts at ``start`` ends; None for an open-ended one. ValueError if malformed."""
    if term in OPEN_ENDED:
        return None
    match = _TERM.match(term)
    if match is None:
        raise ValueError(f"not a term: {term!r}")
    n, unit = int(match.group(1)), match.group(2)
    if unit == "h":
        return start + timedelta(hours=n)
    if unit == "d":
        return start + timedelta(days=n)
    if unit == "w":
        return start + timedelta(weeks=n)
    return start + (relativedelta(months=n) if unit == "m" else relativedelta(years=n))
