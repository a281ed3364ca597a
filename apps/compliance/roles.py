"""Who may do what with AML monitoring and cases (granted by compliance/0002_roles).

The tipping-off wall starts here: Support Agents, CRM Managers, Finance Officers and KYC Officers hold no
``compliance.*`` permission, so no list, count, search or page of this app answers them. AML Analysts see and
work the cases assigned to them or to their inbox (a django-guardian grant of ``work_case`` that
apps.compliance.cases writes on assignment); the MLRO sees and works every case, assigns, gives the second
approval of a case closed as confirmed and publishes rules (the second person of a rule's publication).
Analysts draft rules, backtest and snooze; Administrators configure inboxes and SLA policies and see nothing of
the cases themselves. Docs: docs/COMPLIANCE.md."""

VIEW = (
    "compliance.view_case",
    "compliance.view_caseevent",
    "compliance.view_casetransaction",
    "compliance.view_caseattachment",
    "compliance.view_alert",
    "compliance.view_rule",
    "compliance.view_ruleversion",
    "compliance.view_rulehit",
    "compliance.view_rulesnooze",
)
ANALYST = (
    *VIEW,
    "compliance.add_case",
    "compliance.case_actions",
    "compliance.add_rule",
    "compliance.add_ruleversion",
    "compliance.backtest_rule",
    "compliance.snooze_rule",
)
LEAD = (
    "compliance.view_all_cases",
    "compliance.work_case",
    "compliance.assign_case",
    "compliance.approve_case_closing",
    "compliance.publish_rule",
)
CONFIGURE = (
    "compliance.view_caseinbox",
    "compliance.add_caseinbox",
    "compliance.change_caseinbox",
    "compliance.view_slapolicy",
    "compliance.change_slapolicy",
    "compliance.view_analyststatus",
    "compliance.change_analyststatus",
)

COMPLIANCE_PERMISSIONS = {
    "AML Analyst": ANALYST,
    "MLRO": (*ANALYST, *LEAD, *CONFIGURE),
    "Administrator": CONFIGURE,
}
