"""The reports' rows of the persona sweep (tests/staff/test_personas.py merges them into its ``CASES`` with
``**REPORT_CASES``): every reports permission, a role that holds it and succeeds, one that does not and is
refused (asking for a run of each report family through the service, scheduling, the runs list, the dashboard's
money panel)."""

from __future__ import annotations

from typing import Any

from apps.reports import runs, schedules
from apps.reports.models import ReportRun
from apps.staff import roles
from tests.staff.personas import Case, Get, Post, Service, Shown, Unchecked, World

FIN, KYC, AML, CRM, SA = (
    roles.FINANCE_OFFICER,
    roles.KYC_OFFICER,
    roles.AML_ANALYST,
    roles.CRM_MANAGER,
    roles.SUPPORT_AGENT,
)
NOBODY = None
RUNS = "/admin/reports/reportrun/"
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def _ask(report: str, params: Any) -> Any:
    return lambda w, staff: runs.run_request(actor=staff, report=report, params=params(w), format="csv")


def persona_run(w: World) -> ReportRun:
    found = getattr(w, "_report_run", None)
    if found is None:
        found = ReportRun.objects.create(report="ggr_daily", params=dict(MARCH), format="csv")
        w._report_run = found  # type: ignore[attr-defined]
    return found


REPORT_CASES: dict[str, Case] = {
    "reports.view_reportrun": Case(FIN, SA, Get(lambda w: RUNS)),
    "reports.add_reportrun": Case(NOBODY, FIN, Get(lambda w: f"{RUNS}add/")),  # runs are asked through the service
    "reports.change_reportrun": Case(
        NOBODY, FIN, Post(lambda w: f"{RUNS}{persona_run(w).pk}/change/", lambda w: {}, lambda w: False)
    ),
    "reports.delete_reportrun": Case(NOBODY, FIN, Get(lambda w: f"{RUNS}{persona_run(w).pk}/delete/")),
    "reports.run_financial": Case(FIN, KYC, Service(_ask("ggr_daily", lambda w: MARCH), "report_not_permitted")),
    "reports.run_regulatory": Case(
        FIN, KYC, Service(_ask("mga_monthly", lambda w: {"month": "2026-03"}), "report_not_permitted")
    ),
    "reports.run_compliance": Case(KYC, FIN, Service(_ask("kyc_status", lambda w: MARCH), "report_not_permitted")),
    "reports.run_aml": Case(AML, KYC, Service(_ask("aml_activity", lambda w: MARCH), "report_not_permitted")),
    "reports.run_marketing": Case(CRM, KYC, Service(_ask("bonus_cost", lambda w: MARCH), "report_not_permitted")),
    "reports.run_player_statement": Case(
        FIN,
        KYC,
        Service(_ask("player_statement", lambda w: {**MARCH, "player": str(w.player.pk)}), "report_not_permitted"),
    ),
    "reports.schedule_report": Case(
        FIN,
        AML,
        Service(
            lambda w, staff: schedules.schedule_create(
                actor=staff,
                report="aml_activity" if staff.has_perm("reports.run_aml") else "mga_monthly",
                format="csv",
                params={},
                crontab={"minute": "0", "hour": "6", "day_of_month": "1"},
                name=f"persona {staff.pk}",
            ),
            "report_not_permitted",
        ),
    ),
    "reports.view_dashboard_finance": Case(
        FIN, SA, Shown(lambda w: "/admin/", lambda response, w: b'id="dashboard-money"' in response.content)
    ),
    **{
        f"reports.{verb}_operatorday": Case(NOBODY, None, Unchecked("kept by the rollups' consumer; read by reports"))
        for verb in ("view", "add", "change", "delete")
    },
}
