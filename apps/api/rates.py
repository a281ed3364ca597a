"""Rates written as ``"<count>/<period>"`` (``"6000/min"``, ``"30/m"``, ``"10/s"``), as DRF writes them."""

from __future__ import annotations

_DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """(count, seconds) of a rate."""
    count, _, period = rate.partition("/")
    return int(count), _DURATIONS[period[0]]
