"""Responsible-gambling activity: what players chose (limits, time-outs, self-exclusions, with us and on the
national registers) and what staff did (interactions, operator exclusions and limits, the limit flags they were
shown), per local day and jurisdiction, for a period. What each figure counts: ``protection_sql``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apps.reports.context import RunContext
from apps.reports.definitions.common import PLACES_CTE, period_errors, utc_window
from apps.reports.definitions.period_params import PERIOD_PARAMS
from apps.reports.definitions.protection_sql import (
    EVENTS_CTE,
    EXCLUSION_KINDS,
    INTERVENTION_KINDS,
    PLAYER_LIMIT_KINDS,
)
from apps.reports.types import Column, ReportType, Table

KINDS = PLAYER_LIMIT_KINDS + EXCLUSION_KINDS + INTERVENTION_KINDS

# A register self-exclusion counts people (once a day however often asked), everything else counts events.
_COUNTS = ", ".join(
    f"count(DISTINCT subject) FILTER (WHERE kind = '{kind}')"
    if kind == "register_exclusion"
    else f"count(*) FILTER (WHERE kind = '{kind}')"
    for kind, _ in KINDS
)

SQL = f"""
    WITH {PLACES_CTE}, {EVENTS_CTE}
    SELECT day, jurisdiction, {_COUNTS}
    FROM events
    WHERE day BETWEEN %(start)s AND %(end)s AND (%(jurisdiction)s::text IS NULL OR jurisdiction = %(jurisdiction)s)
    GROUP BY GROUPING SETS ((day, jurisdiction), (jurisdiction))
    ORDER BY jurisdiction, day NULLS LAST
"""  # noqa: S608 (constants only)


class RgActivity(ReportType):
    code = "rg_activity"
    title = "Responsible-gambling activity"
    description = (
        "Limits set and changed, time-outs, self-exclusions (with us and found on the national registers) and "
        "staff interventions, per local day and jurisdiction."
    )
    params = PERIOD_PARAMS
    permission = "reports.run_compliance"

    def check(self, params: dict[str, Any], user: Any | None) -> dict[str, str]:
        return period_errors(params)

    def tables(self, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        lo, hi = utc_window(params["start"], params["end"])
        with ctx.cursor() as cursor:
            cursor.execute(
                SQL,
                {
                    "lo": lo,
                    "hi": hi,
                    "start": params["start"],
                    "end": params["end"],
                    "jurisdiction": params.get("jurisdiction"),
                },
            )
            rows = cursor.fetchall()  # one row per day and jurisdiction with any activity, and one per jurisdiction
        counts = [Column(kind, label, "int") for kind, label in KINDS]
        ctx.progress(1, 2)
        yield Table(
            "by_day",
            "By local day and jurisdiction",
            [Column("day", "Day", "date"), Column("jurisdiction", "Jurisdiction"), *counts],
            [row for row in rows if row[0] is not None],
            note="Days without any activity are left out. A register self-exclusion counts the people found "
            "registered that day; every other column counts events.",
        )
        ctx.progress(2, 2)
        yield Table(
            "totals",
            "Totals for the period by jurisdiction",
            [Column("jurisdiction", "Jurisdiction"), *counts],
            [row[1:] for row in rows if row[0] is None],
            note="A person found on a register on several days counts once in the period.",
        )


TYPES = (RgActivity,)
