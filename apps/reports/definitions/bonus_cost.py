"""Bonus cost by campaign and template for a period of local days (the player's jurisdiction's clock), per currency.

The definition is the bonus statistics' (apps/bonuses/stats.py) and ``ggr_daily``'s: **bonus cost = the award
postings - the forfeits**, the net debit of the operator's ``bonus_cost`` account, here counted on the day each
posting was made: a bonus's award on the day it became active (an offer when it was claimed), its forfeit
(forfeited, expired, cancelled, or above the maximum conversion at completion) on the day it ended. A free-spins
award posts nothing (its winnings are wins, in GGR): only its forfeits count, which makes its cost negative. The
cash paid on conversion is shown beside the cost (it is part of it, not added to it). Summed over the campaigns and
templates, a period's bonus cost equals ``ggr_daily``'s for the same days (a test holds them equal).

The figures come from the player bonus rows, which carry what the ledger moved for them posting by posting
(``amount``, ``converted_amount``, ``forfeited_amount``), so the ledger is not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apps.reports.context import RunContext
from apps.reports.definitions.common import PLACES_CTE, local_day_sql, money, period_errors, utc_window
from apps.reports.definitions.period_params import PERIOD_PARAMS
from apps.reports.types import Column, ReportType, Table

NO_CAMPAIGN = "(no campaign)"

_FIGURES = """
    count(*) FILTER (WHERE awarded) AS awarded,
    coalesce(sum(amount) FILTER (WHERE awarded AND template_type <> 'free_spins'), 0) AS award_postings,
    coalesce(sum(forfeited_amount) FILTER (WHERE ended), 0) AS forfeits,
    coalesce(sum(amount) FILTER (WHERE awarded AND template_type <> 'free_spins'), 0)
      - coalesce(sum(forfeited_amount) FILTER (WHERE ended), 0) AS bonus_cost,
    coalesce(sum(converted_amount) FILTER (WHERE ended AND state = 'completed'), 0) AS converted
"""

SQL = f"""
    WITH {PLACES_CTE},
    b AS (
        SELECT pb.currency, pb.state, pb.amount, pb.forfeited_amount, pb.converted_amount, bt.type AS template_type,
               bt.code AS template, bt.name AS template_name, c.name AS campaign,
               pb.activated_at IS NOT NULL AND pb.activated_at >= %(lo)s AND pb.activated_at < %(hi)s
                 AND {local_day_sql("pb.activated_at", "pl")} BETWEEN %(start)s AND %(end)s AS awarded,
               pb.ended_at IS NOT NULL AND pb.ended_at >= %(lo)s AND pb.ended_at < %(hi)s
                 AND {local_day_sql("pb.ended_at", "pl")} BETWEEN %(start)s AND %(end)s AS ended
        FROM bonuses_playerbonus pb
        JOIN bonuses_bonustemplate bt ON bt.id = pb.template_id
        JOIN places pl ON pl.player_id = pb.player_id
        LEFT JOIN crm_campaign c ON c.id = pb.campaign_id
        WHERE ((pb.activated_at >= %(lo)s AND pb.activated_at < %(hi)s)
               OR (pb.ended_at >= %(lo)s AND pb.ended_at < %(hi)s))
          AND (%(jurisdiction)s::text IS NULL OR pl.jurisdiction = %(jurisdiction)s)
    )
    SELECT grouping(campaign, template, template_name), coalesce(campaign, %(none)s), template, template_name,
           currency, {_FIGURES}
    FROM b WHERE awarded OR ended
    GROUP BY GROUPING SETS ((campaign, template, template_name, currency), (currency))
    ORDER BY 1, campaign IS NULL, campaign COLLATE "C", template COLLATE "C", currency COLLATE "C"
"""  # noqa: S608 (constants only)


def _figure_columns() -> list[Column]:
    return [
        Column("awarded", "Bonuses awarded", "int", help="Became active in the period (offers: when claimed)"),
        money("award_postings", "Awarded", "The award postings (a free-spins award posts nothing)"),
        money("forfeits", "Forfeited", "The forfeit postings of the bonuses that ended in the period"),
        money("bonus_cost", "Bonus cost", "Awarded - forfeited: the net debit of the bonus cost account"),
        money("converted", "Paid as cash", "Converted to cash on completion (part of the cost)"),
    ]


class BonusCost(ReportType):
    code = "bonus_cost"
    title = "Bonus cost by campaign and template"
    description = "Bonuses awarded, forfeited, the bonus cost and the cash paid, per campaign and template."
    params = PERIOD_PARAMS
    permission = "reports.run_marketing"

    def check(self, params: dict[str, Any], user: Any | None) -> dict[str, str]:
        return period_errors(params)

    def tables(self, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        lo, hi = utc_window(params["start"], params["end"])
        with ctx.cursor() as cursor:
            cursor.execute(
                SQL,
                {
                    "start": params["start"],
                    "end": params["end"],
                    "lo": lo,
                    "hi": hi,
                    "jurisdiction": params.get("jurisdiction"),
                    "none": NO_CAMPAIGN,
                },
            )
            rows = cursor.fetchall()  # one per campaign, template and currency, and one per currency
        ctx.progress(1, 2)
        yield Table(
            "by_campaign",
            "By campaign and template",
            [
                Column("campaign", "Campaign", help=f"{NO_CAMPAIGN}: awarded by staff, a code, a claim or a deposit"),
                Column("template", "Template"),
                Column("template_name", "Template name"),
                Column("currency", "Currency"),
                *_figure_columns(),
            ],
            [row[1:] for row in rows if row[0] == 0],
        )
        ctx.progress(2, 2)
        yield Table(
            "totals",
            "Totals per currency",
            [Column("currency", "Currency"), *_figure_columns()],
            [row[4:] for row in rows if row[0] != 0],
        )


TYPES = (BonusCost,)
