"""AML activity for a period: the alerts the rules raised, by rule and by what became of them; the cases opened, by
type, outcome and SLA state; the cases closed, by type and outcome, and whether by their due time. Each on the
player's jurisdiction's clock (a case without a player on UTC, and under no jurisdiction).

SAR counts only when asked for (``include_sars``) by a holder of ``sars.view_sar`` (the MLRO), or by a schedule or
the command line, which are the operator's own (``check``); downloading such a run needs ``sars.view_sar`` too
(``download_permissions``). Without the parameter nothing in the file says that reports to the FIU exist: no table,
no column, no note, no word of them; the parameter itself is left out of the file's header when not given (it has
no default), so a file made without it is the file of a report that knows of no SARs (docs/SARS.md, "The wall").

* **Alerts**: raised in the period, by rule, with what became of them now: their case still open, or the case's
  outcome (confirmed, refuted, inconclusive). ``hits``: the rule's hits the alerts gathered (one alert per rule,
  player and window).
* **Cases opened**: by type and priority, with their outcome (``open`` while not closed) and SLA state as they
  stand when the report runs (the SLA sweep's on track / at risk / breached: a breach stays a breach).
* **Cases closed** in the period: by type and outcome, and how many closed by their due time (``due_at``, which
  waiting pauses moved later).
* **SARs** (only with ``include_sars``): per report code (SAR, STR), the reports drafted, submitted for approval,
  approved and filed in the period, each on its own date.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from apps.reports.context import RunContext
from apps.reports.definitions.common import PLACES_CTE, local_day_sql, period_errors, utc_window
from apps.reports.definitions.period_params import PERIOD_PARAMS
from apps.reports.errors import ReportNotPermitted
from apps.reports.types import Column, Param, ReportType, Table

SAR_PERMISSION = "sars.view_sar"

# Rows of the period on the player's clock: ``{at}`` the instant column, ``pl`` the player's place (or none).
_IN_PERIOD = (
    "{at} >= %(lo)s AND {at} < %(hi)s "
    "AND (CASE WHEN pl.player_id IS NULL THEN ({at} AT TIME ZONE 'UTC')::date ELSE {day} END) "
    "BETWEEN %(start)s AND %(end)s "
    "AND (%(jurisdiction)s::text IS NULL OR pl.jurisdiction = %(jurisdiction)s)"
)


def in_period(at: str) -> str:
    return _IN_PERIOD.format(at=at, day=local_day_sql(at, "pl"))


ALERTS_SQL = f"""
    WITH {PLACES_CTE}
    SELECT r.code, r.name,
           CASE WHEN c.id IS NULL THEN 'no case' WHEN c.state <> 'closed' THEN 'case open' ELSE c.outcome END,
           count(*), count(DISTINCT a.player_id), sum(a.hit_count)
    FROM compliance_alert a
    JOIN compliance_rule r ON r.id = a.rule_id
    LEFT JOIN compliance_case c ON c.id = a.case_id
    LEFT JOIN places pl ON pl.player_id = a.player_id
    WHERE {in_period("a.created_at")}
    GROUP BY 1, 2, 3 ORDER BY 1, 3
"""  # noqa: S608 (constants only)

CASES_OPENED_SQL = f"""
    WITH {PLACES_CTE}
    SELECT c.type, c.priority, CASE WHEN c.state = 'closed' THEN c.outcome ELSE 'open' END, c.sla_state, count(*)
    FROM compliance_case c LEFT JOIN places pl ON pl.player_id = c.player_id
    WHERE {in_period("c.opened_at")}
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, CASE c.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, 3, 4
"""  # noqa: S608 (constants only)

CASES_CLOSED_SQL = f"""
    WITH {PLACES_CTE}
    SELECT c.type, c.outcome, count(*), count(*) FILTER (WHERE c.closed_at <= c.due_at)
    FROM compliance_case c LEFT JOIN places pl ON pl.player_id = c.player_id
    WHERE c.state = 'closed' AND {in_period("c.closed_at")}
    GROUP BY 1, 2 ORDER BY 1, 2
"""  # noqa: S608 (constants only)

SARS_SQL = f"""
    WITH {PLACES_CTE},
    codes (report_code) AS (VALUES ('SAR'), ('STR')),
    moments AS (
        SELECT s.report_code, 'drafted' AS what, s.created_at AS at, s.player_id FROM sars_sar s
        UNION ALL SELECT s.report_code, 'submitted', s.submitted_at, s.player_id FROM sars_sar s
        WHERE s.submitted_at IS NOT NULL
        UNION ALL SELECT s.report_code, 'approved', s.approved_at, s.player_id FROM sars_sar s
        WHERE s.approved_at IS NOT NULL
        UNION ALL SELECT s.report_code, 'filed', s.filed_at, s.player_id FROM sars_sar s WHERE s.filed_at IS NOT NULL
    ),
    counted AS (
        SELECT m.report_code,
               count(*) FILTER (WHERE m.what = 'drafted') AS drafted,
               count(*) FILTER (WHERE m.what = 'submitted') AS submitted,
               count(*) FILTER (WHERE m.what = 'approved') AS approved,
               count(*) FILTER (WHERE m.what = 'filed') AS filed
        FROM moments m LEFT JOIN places pl ON pl.player_id = m.player_id
        WHERE {in_period("m.at")}
        GROUP BY 1
    )
    SELECT k.report_code, coalesce(c.drafted, 0), coalesce(c.submitted, 0), coalesce(c.approved, 0),
           coalesce(c.filed, 0)
    FROM codes k LEFT JOIN counted c ON c.report_code = k.report_code
    ORDER BY 1
"""  # noqa: S608 (constants only)


class AmlActivity(ReportType):
    code = "aml_activity"
    title = "AML activity"
    description = "Alerts by rule and outcome, and cases by type, outcome and SLA state, for a period."
    params = (
        *PERIOD_PARAMS,
        # No default on purpose: a run without it carries no trace of the parameter (see the module docstring).
        Param("include_sars", "bool", label="Include report counts to the FIU", required=False),
    )
    permission = "reports.run_aml"

    def clean(self, raw: Mapping[str, str], *, today: date) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
        """``include_sars=no`` is the same run as leaving it out: its text is dropped, so the file's header and the
        run's parameters never carry the word."""
        values, texts, errors = super().clean(raw, today=today)
        if values.get("include_sars") is False:
            values["include_sars"] = None
            texts.pop("include_sars", None)
        return values, texts, errors

    def check(self, params: dict[str, Any], user: Any | None) -> dict[str, str]:
        errors = period_errors(params)
        if params.get("include_sars") and user is not None and not user.has_perm(SAR_PERMISSION):
            errors["include_sars"] = "Only those who may see reports to the FIU may ask for their counts."
        return errors

    def visible_params(self, user: Any | None) -> tuple[Param, ...]:
        """Only a holder of sars.view_sar is offered the SAR counts' switch (for anyone else it would be refused)."""
        if user is not None and not user.has_perm(SAR_PERMISSION):
            return tuple(param for param in self.params if param.name != "include_sars")
        return self.params

    def download_permissions(self, params: dict[str, Any]) -> tuple[str, ...]:
        if params.get("include_sars"):
            return (self.permission, SAR_PERMISSION)
        return (self.permission,)

    def tables(self, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        with_sars = bool(params.get("include_sars"))
        if with_sars and ctx.user is not None and not ctx.may(SAR_PERMISSION):
            raise ReportNotPermitted("You may not ask for these figures.")  # check() refused it first: a backstop
        lo, hi = utc_window(params["start"], params["end"])
        values = {
            "start": params["start"],
            "end": params["end"],
            "lo": lo,
            "hi": hi,
            "jurisdiction": params.get("jurisdiction"),
        }

        def rows(sql: str) -> list[tuple[Any, ...]]:
            with ctx.cursor() as cursor:
                cursor.execute(sql, values)
                return list(cursor.fetchall())

        steps = 4 if with_sars else 3
        yield Table(
            "alerts",
            "Alerts raised in the period, by rule and outcome",
            [
                Column("rule", "Rule"),
                Column("rule_name", "Rule name"),
                Column("outcome", "Outcome", help="Of the alert's case: still open, or how it closed"),
                Column("alerts", "Alerts", "int"),
                Column("players", "Players", "int"),
                Column("hits", "Hits", "int"),
            ],
            rows(ALERTS_SQL),
        )
        ctx.progress(1, steps)
        yield Table(
            "cases_opened",
            "Cases opened in the period, by type, outcome and SLA state",
            [
                Column("type", "Type"),
                Column("priority", "Priority"),
                Column("outcome", "Outcome", help="open, or how the case closed"),
                Column("sla_state", "SLA state", help="on_track, at_risk or breached, as the SLA sweep last set it"),
                Column("cases", "Cases", "int"),
            ],
            rows(CASES_OPENED_SQL),
        )
        ctx.progress(2, steps)
        yield Table(
            "cases_closed",
            "Cases closed in the period, by type and outcome",
            [
                Column("type", "Type"),
                Column("outcome", "Outcome"),
                Column("cases", "Cases", "int"),
                Column("in_time", "Closed by their due time", "int"),
            ],
            rows(CASES_CLOSED_SQL),
        )
        ctx.progress(3, steps)
        if with_sars:
            yield Table(
                "sars",
                "Reports to the FIU (SAR, STR) in the period",
                [
                    Column("report_code", "Report"),
                    Column("drafted", "Drafted", "int"),
                    Column("submitted", "Submitted for approval", "int"),
                    Column("approved", "Approved", "int"),
                    Column("filed", "Filed", "int"),
                ],
                rows(SARS_SQL),
            )
            ctx.progress(4, steps)


TYPES = (AmlActivity,)
