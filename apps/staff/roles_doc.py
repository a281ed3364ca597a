"""README's Roles table, generated from the roles modules (``defined_role_permissions``): what each role may do, in
the operator's words, one row per thing a person does and one column per role.

Each permission any role holds belongs to exactly one row (``ROWS``); a row's permissions are held together or
not at all, so a tick never overstates. A permission a roles module grants without a row, or held by half, fails
``manage.py roles_table`` (and the test that keeps README equal to it), naming it.
"""

from __future__ import annotations

import re

from apps.staff import roles

# (area, what a person may do, the permissions that lets them do it)
ROWS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Players", "find and open players", ("players.view_player",)),
    ("Players", "see logins and sessions", ("players.view_playerlogin",)),
    ("Players", "read staff notes", ("players.view_playernote",)),
    ("Players", "add a note", ("players.add_playernote",)),
    ("Players", "tag players", ("players.change_player_tags",)),
    (
        "Players",
        "correct the profile (on an excluded person's account, a new name or birth date waits for a second person)",
        ("players.change_player",),
    ),
    ("Players", "see restrictions", ("players.view_playerrestriction",)),
    ("Players", "block or unblock a capability (deposit, bet, withdraw...)", ("players.change_player_blocks",)),
    ("Players", "change the account status (suspend, close, reactivate)", ("players.change_player_status",)),
    ("Players", "read compliance reasons and notes", ("players.view_compliance",)),
    ("Players", "restrict on the compliance authority", ("players.act_compliance",)),
    ("Players", "restrict on the responsible-gambling authority", ("players.act_responsible_gambling",)),
    ("Players", "restrict on the finance authority", ("players.act_finance",)),
    ("Players", "restrict on the support authority", ("players.act_support",)),
    ("Players", "brands (view, add, change)", ("players.view_brand", "players.add_brand", "players.change_brand")),
    (
        "Protection",
        "see exclusions, limits, flags, interactions, register checks, corrections and identity edits",
        (
            "responsible.view_exclusion",
            "responsible.view_exclusioncorrection",
            "responsible.view_limit",
            "responsible.view_limitchange",
            "responsible.view_flag",
            "responsible.view_interaction",
            "responsible.view_registercheck",
            "responsible.view_identitychangerequest",
        ),
    ),
    ("Protection", "record an interaction with a player", ("responsible.add_interaction",)),
    ("Protection", "impose an operator exclusion", ("responsible.exclude_player",)),
    ("Protection", "set an operator limit", ("responsible.set_operator_limit",)),
    ("Protection", "ask to lift an operator exclusion", ("responsible.request_lift",)),
    ("Protection", "decide a lift (the second person)", ("responsible.decide_lift",)),
    ("Protection", "ask for or apply an exclusion correction (two people)", ("responsible.correct_exclusion",)),
    ("Protection", "apply or refuse a held identity edit", ("responsible.decide_identity_change",)),
    (
        "Wallet",
        "see the ledger, its entries and balances",
        ("wallet.view_ledgertransaction", "wallet.view_entry", "wallet.view_account"),
    ),
    ("Wallet", "see withdrawals", ("wallet.view_withdrawal",)),
    ("Wallet", "approve, reject and settle withdrawals", ("wallet.approve_withdrawal",)),
    ("Wallet", "hold and release withdrawals", ("wallet.hold_withdrawal",)),
    ("Wallet", "see adjustments", ("wallet.view_adjustment",)),
    ("Wallet", "request an adjustment", ("wallet.add_adjustment",)),
    ("Wallet", "approve another's adjustment", ("wallet.approve_adjustment",)),
    (
        "KYC",
        "the KYC review queue (an officer: the reviews assigned to them or their team), levels and requirements",
        ("kyc.view_review", "kyc.view_kycprofile", "kyc.view_requirement"),
    ),
    ("KYC", "see and download the documents of the reviews they see (audited)", ("kyc.view_document",)),
    ("KYC", "upload a document for a player", ("kyc.add_document",)),
    ("KYC", "take the next review (it is assigned to them; they decide it)", ("kyc.claim_review",)),
    ("KYC", "see every review (a KYC lead)", ("kyc.view_all_reviews",)),
    ("KYC", "assign reviews to an officer or a team", ("kyc.assign_review",)),
    ("KYC", "decide any review, assigned or not (a KYC lead)", ("kyc.decide_review",)),
    ("KYC", "give the second approval of level 3 (enhanced due diligence)", ("kyc.approve_level_3",)),
    (
        "AML",
        "see the cases assigned to them or their inbox, with their alerts, timeline, evidence and the rules",
        (
            "compliance.view_case",
            "compliance.view_caseevent",
            "compliance.view_casetransaction",
            "compliance.view_caseattachment",
            "compliance.view_alert",
            "compliance.view_rule",
            "compliance.view_ruleversion",
            "compliance.view_rulehit",
            "compliance.view_rulesnooze",
        ),
    ),
    ("AML", "open a case by hand", ("compliance.add_case",)),
    ("AML", "take actions from a case (hold, restrict, require EDD, exclude)", ("compliance.case_actions",)),
    (
        "AML",
        "draft rules and their versions, backtest them, snooze a rule for one player",
        ("compliance.add_rule", "compliance.add_ruleversion", "compliance.backtest_rule", "compliance.snooze_rule"),
    ),
    ("AML", "see and work every case (the MLRO)", ("compliance.view_all_cases", "compliance.work_case")),
    ("AML", "assign cases", ("compliance.assign_case",)),
    ("AML", "give the second approval of a case closed as confirmed", ("compliance.approve_case_closing",)),
    ("AML", "publish or retire a rule version (the second person)", ("compliance.publish_rule",)),
    (
        "Configuration",
        "case inboxes (working hours, holidays, lead), SLA policies, analysts away",
        (
            "compliance.view_caseinbox",
            "compliance.add_caseinbox",
            "compliance.change_caseinbox",
            "compliance.view_slapolicy",
            "compliance.change_slapolicy",
            "compliance.view_analyststatus",
            "compliance.change_analyststatus",
        ),
    ),
    (
        "SARs",
        "see reports to the FIU (SAR, STR), their exports and files; every view and download audited",
        ("sars.view_sar",),
    ),
    ("SARs", "draft, edit and submit a report from a case; record its filing; draft a correction", ("sars.draft_sar",)),
    ("SARs", "approve another's report (the second person)", ("sars.approve_sar",)),
    (
        "Screening",
        "see the watchlists, their snapshots and entries, and the screening hits",
        (
            "screening.view_watchlist",
            "screening.view_listsnapshot",
            "screening.view_listentry",
            "screening.view_screeninghit",
        ),
    ),
    ("Screening", "confirm a screening hit or mark it a false positive", ("screening.review_screeninghit",)),
    ("Screening", "screen a customer file against the watchlists", ("screening.screen_file",)),
    ("Screening", "import a watchlist file (a new snapshot)", ("screening.import_list",)),
    ("Bonuses", "see bonus templates and their history", ("bonuses.view_bonustemplate", "bonuses.view_templatechange")),
    ("Bonuses", "write bonus templates (drafts)", ("bonuses.add_bonustemplate", "bonuses.change_bonustemplate")),
    (
        "Bonuses",
        "publish or retire a template (a big budget waits for a second person)",
        ("bonuses.publish_bonustemplate",),
    ),
    ("Bonuses", "approve another's publication of a template", ("bonuses.approve_bonustemplate",)),
    ("Bonuses", "see a player's bonuses and wagering", ("bonuses.view_playerbonus",)),
    ("Bonuses", "award a bonus by hand", ("bonuses.award_playerbonus",)),
    ("Bonuses", "cancel a player's bonus (with a reason)", ("bonuses.cancel_playerbonus",)),
    ("Bonuses", "see the bonus-abuse flags", ("bonuses.view_bonusflag",)),
    ("CRM", "segments (view, build, change, snapshot)", ("crm.view_segment", "crm.add_segment", "crm.change_segment")),
    (
        "CRM",
        "download a segment's marketing export (consent and can() at the moment of export)",
        ("crm.export_segment",),
    ),
    ("CRM", "campaigns (view, build)", ("crm.view_campaign", "crm.add_campaign")),
    ("CRM", "start or cancel a campaign (awards a bonus to a segment)", ("crm.run_campaign",)),
    ("Reports", "see report runs (of the reports the member may run)", ("reports.view_reportrun",)),
    ("Reports", "run and download financial reports (daily GGR/NGR, large transactions)", ("reports.run_financial",)),
    ("Reports", "run and download the regulators' returns (UK quarterly, MGA monthly)", ("reports.run_regulatory",)),
    ("Reports", "run and download KYC and responsible-gambling reports", ("reports.run_compliance",)),
    ("Reports", "run and download AML activity reports (SAR counts need sars.view_sar)", ("reports.run_aml",)),
    ("Reports", "run and download bonus cost reports", ("reports.run_marketing",)),
    ("Reports", "run and download a player's statement", ("reports.run_player_statement",)),
    ("Reports", "schedule reports (make, pause, delete schedules)", ("reports.schedule_report",)),
    ("Reports", "see the dashboard's money figures (GGR, NGR, deposits)", ("reports.view_dashboard_finance",)),
    ("Work", "the Approvals inbox", ("approvals.view_approval",)),
    ("Work", "the audit trail", ("audit.view_auditevent",)),
    (
        "Configuration",
        "jurisdictions and rule packs (view, add, change; with history)",
        (
            "geo.view_jurisdiction",
            "geo.add_jurisdiction",
            "geo.change_jurisdiction",
            "geo.view_rulepack",
            "geo.add_rulepack",
            "geo.change_rulepack",
        ),
    ),
    (
        "Configuration",
        "IP overrides (view, add, change, delete)",
        ("geo.view_ipoverride", "geo.add_ipoverride", "geo.change_ipoverride", "geo.delete_ipoverride"),
    ),
    (
        "System",
        "staff members (view, add, change)",
        ("staff.view_staffuser", "staff.add_staffuser", "staff.change_staffuser"),
    ),
    ("System", "reset a staff member's second factor", ("staff.reset_second_factor",)),
    ("System", "roles (view)", ("auth.view_group",)),
    (
        "System",
        "API clients (view, add, change, revoke)",
        ("api.view_apiclient", "api.add_apiclient", "api.change_apiclient"),
    ),
    (
        "System",
        "KYC verification vendors (view, add, change; the secret write-only) and the events they sent",
        ("kyc.view_vendor", "kyc.add_vendor", "kyc.change_vendor", "kyc.view_vendorevent"),
    ),
    ("System", "the webhook outbox (view)", ("core.view_outboxevent", "core.view_outboxdelivery")),
    ("System", "send a webhook again", ("core.change_outboxdelivery",)),
    (
        "System",
        "the beat schedule (view, pause, retime, run now)",
        (
            "django_celery_beat.view_periodictask",
            "django_celery_beat.change_periodictask",
            "django_celery_beat.view_crontabschedule",
            "django_celery_beat.view_intervalschedule",
        ),
    ),
    ("System", "task results", ("django_celery_results.view_taskresult",)),
    ("System", "second-factor devices (view)", ("otp_totp.view_totpdevice", "otp_static.view_staticdevice")),
)

START, END = "<!-- roles-table -->", "<!-- /roles-table -->"
BLOCK = re.compile(re.escape(START) + r"\n.*?" + re.escape(END), re.DOTALL)
TICK = "✓"


class RolesTableError(Exception):
    """The roles modules hold a permission the table cannot say in words, or half of a row."""


def table(defined: dict[str, set[str]] | None = None) -> str:
    """The markdown table: a row per thing a person may do, a column per role, in ``roles.ROLES`` order."""
    defined = roles.defined_role_permissions() if defined is None else defined
    placed = [p for _, _, perms in ROWS for p in perms]
    twice = sorted({p for p in placed if placed.count(p) > 1})
    unworded = sorted(set().union(*defined.values(), set()) - set(placed))
    problems = [f"in more than one row: {twice}"] if twice else []
    if unworded:
        problems.append(f"held by a role, in no row of apps/staff/roles_doc.py: {unworded}")
    lines = ["| area | may | " + " | ".join(roles.ROLES) + " |", "|---|---|" + "---|" * len(roles.ROLES)]
    previous = ""
    for area, words, perms in ROWS:
        cells = []
        for role in roles.ROLES:
            held = set(perms) & defined.get(role, set())
            if held and held != set(perms):
                problems.append(f"{role} holds only part of '{words}': {sorted(held)} of {list(perms)}")
            cells.append(TICK if held else "")
        lines.append(f"| {area if area != previous else ''} | {words} | " + " | ".join(cells) + " |")
        previous = area
    if problems:
        raise RolesTableError("; ".join(problems))
    return "\n".join(lines)


def render(text: str, defined: dict[str, set[str]] | None = None) -> str:
    """``text`` (README.md) with the block between the markers regenerated."""
    if not BLOCK.search(text):
        raise RolesTableError(f"no {START} ... {END} block to rewrite")
    generated = f"{START}\n{table(defined)}\n{END}"
    return BLOCK.sub(lambda m: generated, text, count=1)
