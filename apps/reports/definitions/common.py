"""What the financial report definitions share: where a player stands (jurisdiction and local clock) in SQL, the
UTC window that holds a range of local days on every clock, the session's ``work_mem``, and the brand filter.

The local day. A player's postings fall on the days of their jurisdiction's clock, as both rollup tables count
them (``apps.wallet.rollups.zone_for``/``day_of`` and ``apps.reports.rollups``): the jurisdiction is the region's
when the region has rule packs, else the country's code (the residence country where none is configured); its zone
applies from its first rule pack's start, UTC before. ``PLACES_CTE`` gives every player that jurisdiction, zone and
start once (a hash of the players and the few jurisdiction rows, not a subquery per transaction), and
``local_day_sql`` a transaction's day on it, so the figures read from the ledger and from the rollups agree."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings

from apps.reports.context import RunContext
from apps.reports.types import Column

# Every clock on Earth is within UTC-12..UTC+14: a local day D lies inside [D 00:00 UTC - 14 h, D+1 00:00 UTC + 12 h).
_EARLIEST_OFFSET = timedelta(hours=14)
_LATEST_OFFSET = timedelta(hours=12)

# ``jur``: the jurisdictions with rule packs, their zone and the start of their first pack.
# ``places``: every player with their brand, jurisdiction code, zone and the instant that zone starts to apply.
_PLACES = """
    jur AS (
        SELECT j.code, coalesce(nullif(j.time_zone, ''), 'UTC') AS time_zone, min(rp.effective_from) AS since
        FROM geo_jurisdiction j JOIN geo_rulepack rp ON rp.jurisdiction_id = j.id
        GROUP BY j.code, j.time_zone
    ),
    places AS (
        SELECT p.id AS player_id, p.brand_id, coalesce(jr.code, jc.code, p.country) AS jurisdiction,
               coalesce(jr.time_zone, jc.time_zone, 'UTC') AS zone,
               coalesce(jr.since, jc.since, 'infinity'::timestamptz) AS since
        FROM players_player p
        LEFT JOIN jur jr ON jr.code = p.region AND p.region <> ''
        LEFT JOIN jur jc ON jc.code = p.country AND jr.code IS NULL
        {where}
    )
"""
PLACES_CTE = _PLACES.format(where="")
# One player's place (a parameter: the player's id), for a query that reads ``places`` more than once: a CTE read
# twice is computed once for every player otherwise.
ONE_PLAYER_PLACES_CTE = _PLACES.format(where="WHERE p.id = %s")


def local_day_sql(column: str = "t.created_at", place: str = "pl") -> str:
    """The local day of an instant on a player's clock (``place``: the alias of a ``places`` row)."""
    return f"({column} AT TIME ZONE {zone_sql(column, place)})::date"


def zone_sql(column: str = "t.created_at", place: str = "pl") -> str:
    """The zone a player's clock had at an instant: the jurisdiction's from its first rule pack on, else UTC."""
    return f"(CASE WHEN {column} >= {place}.since THEN {place}.zone ELSE 'UTC' END)"


def utc_window(start: date, end: date) -> tuple[datetime, datetime]:
    """A UTC range that holds every instant of the local days ``start``..``end`` on any clock: the coarse filter
    the BRIN index on ``created_at`` serves; the exact local day is then tested per row."""
    lo = datetime.combine(start, time(0, 0), tzinfo=UTC) - _EARLIEST_OFFSET
    hi = datetime.combine(end + timedelta(days=1), time(0, 0), tzinfo=UTC) + _LATEST_OFFSET
    return lo, hi


def set_work_mem(ctx: RunContext) -> None:
    """A grouped aggregate over a quarter's transactions spills to disk with PostgreSQL's default 4 MB and runs
    twice as slowly (ECOSYSTEM "Report hash aggregates spill"). The runner raises ``work_mem`` for a run's
    transaction; the report raises it again for a caller that is not the runner (a benchmark, a shell), for its
    transaction only (``set_config(..., true)`` is ``SET LOCAL``)."""
    ctx.one("SELECT set_config('work_mem', %s, true)", [str(getattr(settings, "REPORTS_WORK_MEM", "128MB"))])


def brand_exists(ctx: RunContext, code: str) -> bool:
    return bool(ctx.one("SELECT EXISTS (SELECT 1 FROM players_brand WHERE code = %s)", [code])[0])


def brand_check(params: dict[str, Any]) -> dict[str, str]:
    """A brand parameter naming no brand is an error, not an empty report (a typo would look like a quiet day)."""
    code = params.get("brand")
    if code and not brand_exists(RunContext(), code):
        return {"brand": f"No brand with the code {code!r}."}
    return {}


def period_errors(params: dict[str, Any], *, longest_days: int | None = None, hint: str = "") -> dict[str, str]:
    """The cross-field checks of a ``start``/``end`` pair that ``clean`` cannot make one field at a time."""
    start, end = params.get("start"), params.get("end")
    if start is None or end is None:
        return {}
    if end < start:
        return {"end": "The end is before the start."}
    if longest_days is not None and (end - start).days + 1 > longest_days:
        return {"end": f"At most {longest_days} days{hint}."}
    return {}


def money(key: str, label: str, help: str = "") -> Column:
    return Column(key, label, "money", currency="currency", help=help)
