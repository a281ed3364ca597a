"""Who may run, schedule and download which reports (granted by reports/0002_roles). Docs: docs/REPORTS.md.

Each report type names the permission that lets a person ask for a run of it and download its file; the runs
list shows a person only the runs of types they may run. Finance runs the money reports and the regulators'
returns; the MLRO the regulators' returns and the compliance and AML figures (SAR counts only with
sars.view_sar, which the MLRO alone holds); AML Analysts the compliance and AML figures; KYC Officers the KYC and
responsible-gambling ones; CRM Managers the bonus cost of their campaigns. Support Agents hold nothing here: a
report's counts of alerts or cases would tell them what the wall hides."""

VIEW = ("reports.view_reportrun",)

REPORTS_PERMISSIONS = {
    "Finance Officer": (
        *VIEW,
        "reports.run_financial",
        "reports.run_regulatory",
        "reports.run_marketing",
        "reports.run_player_statement",
        "reports.schedule_report",
        "reports.view_dashboard_finance",
    ),
    "MLRO": (
        *VIEW,
        "reports.run_regulatory",
        "reports.run_compliance",
        "reports.run_aml",
        "reports.run_player_statement",
        "reports.schedule_report",
        "reports.view_dashboard_finance",
    ),
    "AML Analyst": (*VIEW, "reports.run_compliance", "reports.run_aml"),
    "KYC Officer": (*VIEW, "reports.run_compliance"),
    "CRM Manager": (*VIEW, "reports.run_marketing"),
    "Administrator": VIEW,
}
