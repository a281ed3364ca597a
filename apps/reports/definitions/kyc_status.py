"""KYC status: the players by verification level at the period's end, the requirements overdue then, and how
long KYC reviews took to close in the period, per jurisdiction.

* **Level at the end**: a player's level as it stood at the end of the period's last day on their clock (players
  registered by then). The level only changes with a document decision, each recorded with the level before and
  after it (``kyc_documentdecision``), so it is today's level unless a decision after the end changed it, in which
  case it is the level before the first such decision. No profile yet is level 0.
* **Overdue at the end**: requirements raised by the end, due before it and not met by then (still open, or met
  or waived only after it), by level and trigger, with how many days the oldest was overdue at the end.
* **Review turnaround**: the reviews closed in the period (on the player's clock), from the review's creation to
  its close: the median and the 90th percentile in hours (continuous percentiles, to 0.1 h), and how many closed
  by their due time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apps.reports.context import RunContext
from apps.reports.definitions.common import PLACES_CTE, local_day_sql, period_errors, utc_window
from apps.reports.definitions.period_params import PERIOD_PARAMS
from apps.reports.types import Column, ReportType, Table

# The instant the period ends on a player's clock: local midnight after its last day (on UTC before the
# jurisdiction's first rule pack, as ``common.zone_sql`` says of any instant).
_MIDNIGHT = "(%(end)s::date + 1)::timestamp"
_END = (
    f"(CASE WHEN ({_MIDNIGHT} AT TIME ZONE pl.zone) >= pl.since THEN ({_MIDNIGHT} AT TIME ZONE pl.zone) "
    f"ELSE ({_MIDNIGHT} AT TIME ZONE 'UTC') END)"
)

LEVELS_SQL = f"""
    WITH {PLACES_CTE},
    undone AS (  -- per player, the first decision after the end that changed the level: the level before it
        SELECT DISTINCT ON (doc.player_id) doc.player_id, d.level_before
        FROM kyc_documentdecision d
        JOIN kyc_document doc ON doc.id = d.document_id
        JOIN places pl ON pl.player_id = doc.player_id
        WHERE d.at >= %(lo_end)s AND d.level_before <> d.level_after AND d.at >= {_END}
        ORDER BY doc.player_id, d.at, d.id
    )
    SELECT pl.jurisdiction, coalesce(u.level_before, k.level, 0), count(*)
    FROM players_player p
    JOIN places pl ON pl.player_id = p.id
    LEFT JOIN kyc_kycprofile k ON k.player_id = p.id
    LEFT JOIN undone u ON u.player_id = p.id
    WHERE p.created_at < {_END} AND (%(jurisdiction)s::text IS NULL OR pl.jurisdiction = %(jurisdiction)s)
    GROUP BY 1, 2 ORDER BY 1, 2
"""  # noqa: S608 (constants only)

OVERDUE_SQL = f"""
    WITH {PLACES_CTE}
    SELECT pl.jurisdiction, r.level, r.trigger, count(*), count(DISTINCT r.player_id),
           max((({_END}) - r.due_at))
    FROM kyc_requirement r JOIN places pl ON pl.player_id = r.player_id
    WHERE r.created_at < {_END} AND r.due_at < {_END} AND (r.closed_at IS NULL OR r.closed_at >= {_END})
      AND (%(jurisdiction)s::text IS NULL OR pl.jurisdiction = %(jurisdiction)s)
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""  # noqa: S608 (constants only)

TURNAROUND_SQL = f"""
    WITH {PLACES_CTE},
    closed AS (
        SELECT pl.jurisdiction, r.level_sought, r.closed_at - r.created_at AS took, r.closed_at <= r.due_at AS in_time
        FROM kyc_review r JOIN places pl ON pl.player_id = r.player_id
        WHERE r.state = 'closed' AND r.closed_at >= %(lo)s AND r.closed_at < %(hi)s
          AND {local_day_sql("r.closed_at", "pl")} BETWEEN %(start)s AND %(end)s
          AND (%(jurisdiction)s::text IS NULL OR pl.jurisdiction = %(jurisdiction)s)
    )
    SELECT jurisdiction, level_sought, count(*),
           round(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY took)) / 3600, 1),
           round(extract(epoch FROM percentile_cont(0.9) WITHIN GROUP (ORDER BY took)) / 3600, 1),
           count(*) FILTER (WHERE in_time)
    FROM closed GROUP BY 1, 2 ORDER BY 1, 2
"""  # noqa: S608 (constants only)


class KycStatus(ReportType):
    code = "kyc_status"
    title = "KYC status"
    description = (
        "Players by KYC level and the requirements overdue at the period's end; KYC review turnaround (median "
        "and 90th percentile) in the period."
    )
    params = PERIOD_PARAMS
    permission = "reports.run_compliance"

    def check(self, params: dict[str, Any], user: Any | None) -> dict[str, str]:
        return period_errors(params)

    def tables(self, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        lo, hi = utc_window(params["start"], params["end"])
        values = {
            "start": params["start"],
            "end": params["end"],
            "lo": lo,
            "hi": hi,
            "lo_end": utc_window(params["end"], params["end"])[0],  # before the end on any clock
            "jurisdiction": params.get("jurisdiction"),
        }

        def rows(sql: str) -> list[tuple[Any, ...]]:
            with ctx.cursor() as cursor:
                cursor.execute(sql, values)
                return list(cursor.fetchall())

        end = params["end"].isoformat()
        yield Table(
            "levels",
            f"Players by KYC level at the end of {end}",
            [
                Column("jurisdiction", "Jurisdiction"),
                Column("level", "Level", "int"),
                Column("players", "Players", "int"),
            ],
            rows(LEVELS_SQL),
            note="Players registered by then; the level as it stood then (on each player's clock).",
        )
        ctx.progress(1, 3)
        overdue = [(*row[:5], row[5].days) for row in rows(OVERDUE_SQL)]
        yield Table(
            "overdue",
            f"Requirements overdue at the end of {end}",
            [
                Column("jurisdiction", "Jurisdiction"),
                Column("level", "Level needed", "int"),
                Column("trigger", "Trigger"),
                Column("requirements", "Requirements", "int"),
                Column("players", "Players", "int"),
                Column("most_days_overdue", "Longest overdue (whole days)", "int"),
            ],
            overdue,
        )
        ctx.progress(2, 3)
        yield Table(
            "turnaround",
            "KYC reviews closed in the period",
            [
                Column("jurisdiction", "Jurisdiction"),
                Column("level_sought", "Level sought", "int"),
                Column("reviews", "Reviews closed", "int"),
                Column("median_hours", "Median (hours)", "text", help="From the review's creation to its close"),
                Column("p90_hours", "90th percentile (hours)", "text"),
                Column("in_time", "Closed by their due time", "int"),
            ],
            rows(TURNAROUND_SQL),
        )
        ctx.progress(3, 3)


TYPES = (KycStatus,)
