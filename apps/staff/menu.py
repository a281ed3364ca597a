"""The admin's navigation in the operator's words: which screens there are, under which heading, by what name.

Django lists apps alphabetically under their package names ("Otp_Totp", "Celery Results"). The site
(apps/staff/sites.py) regroups the app list it builds for a request (already filtered by the member's permissions)
into the headings below, in this order, and renames each screen; nothing changes in the models' Meta (no
migrations in other apps). The technical screens (second-factor devices, the task schedule and results, the
login lockout's records) are grouped under "System", shown to Administrators only. A registered model missing
here is still listed, under "Other", with its own name: a new screen never disappears from the menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.staff.roles import ADMINISTRATOR

SYSTEM = "system"


@dataclass(frozen=True)
class Heading:
    key: str
    label: str
    screens: tuple[tuple[str, str], ...]  # ("app_label.ModelName", the screen's name)
    administrators_only: bool = False


MENU = (
    Heading(
        "players",
        "Players",
        (
            ("players.Player", "Players"),
            ("players.PlayerRestriction", "Account restrictions"),
            ("players.Brand", "Brands"),
        ),
    ),
    Heading(
        "safer_gambling",
        "Safer gambling",
        (
            ("responsible.Exclusion", "Exclusions"),
            ("responsible.ExclusionCorrection", "Exclusion corrections"),
            ("responsible.Limit", "Limits"),
            ("responsible.LimitChange", "Limit changes"),
            ("responsible.Flag", "Limit flags"),
            ("responsible.Interaction", "Player interactions"),
            ("responsible.RegisterCheck", "National register checks"),
            ("responsible.IdentityChangeRequest", "Held identity edits"),
        ),
    ),
    Heading(
        "payments",
        "Payments",
        (
            ("wallet.Withdrawal", "Withdrawals"),
            ("wallet.Adjustment", "Manual adjustments"),
            ("wallet.LedgerTransaction", "Ledger"),
        ),
    ),
    Heading("kyc", "Identity verification", (("kyc.Review", "KYC review queue"),)),
    Heading(
        "compliance",
        "AML cases",
        (
            ("compliance.Case", "Case inbox"),
            ("compliance.Alert", "Alerts"),
            ("compliance.Rule", "AML rules"),
            ("compliance.RuleVersion", "Rule versions"),
            ("compliance.RuleHit", "Rule hits"),
            ("compliance.RuleSnooze", "Rule snoozes"),
            ("compliance.CaseInbox", "Case inboxes"),
            ("compliance.SlaPolicy", "Case SLA policies"),
            ("compliance.AnalystStatus", "Analysts away"),
        ),
    ),
    Heading(
        "screening",
        "Sanctions screening",
        (
            ("screening.ScreeningHit", "Screening hits"),
            ("screening.WatchList", "Watchlists"),
            ("screening.ListSnapshot", "List snapshots"),
            ("screening.ListEntry", "List entries"),
        ),
    ),
    Heading("sars", "Reports to the FIU", (("sars.Sar", "Suspicious activity reports"),)),
    Heading(
        "bonuses",
        "Bonuses",
        (
            ("bonuses.BonusTemplate", "Bonus templates"),
            ("bonuses.PlayerBonus", "Player bonuses"),
            ("bonuses.TemplateChange", "Template history"),
            ("bonuses.BonusFlag", "Abuse flags"),
        ),
    ),
    Heading("crm", "CRM", (("crm.Segment", "Segments"), ("crm.Campaign", "Campaigns"))),
    Heading("reports", "Reports", (("reports.ReportRun", "Report runs"),)),
    Heading("approvals", "Approvals", (("approvals.Approval", "Approvals inbox"),)),
    Heading("audit", "Audit", (("audit.AuditEvent", "Audit trail"),)),
    Heading(
        "jurisdictions",
        "Jurisdictions",
        (
            ("geo.Jurisdiction", "Jurisdictions"),
            ("geo.RulePack", "Rule packs"),
            ("geo.IpOverride", "IP overrides"),
        ),
    ),
    Heading("staff", "Staff", (("staff.StaffUser", "Staff members"), ("auth.Group", "Roles"))),
    Heading(
        "platform",
        "Platform API",
        (
            ("api.ApiClient", "API clients"),
            ("core.OutboxEvent", "Webhook events"),
            ("core.OutboxDelivery", "Webhook deliveries"),
        ),
    ),
    Heading(
        SYSTEM,
        "System",
        (
            ("otp_totp.TOTPDevice", "Authenticator apps (TOTP devices)"),
            ("otp_static.StaticDevice", "Backup codes (static devices)"),
            ("django_celery_beat.PeriodicTask", "Scheduled tasks"),
            ("django_celery_beat.CrontabSchedule", "Schedules: crontab"),
            ("django_celery_beat.IntervalSchedule", "Schedules: interval"),
            ("django_celery_beat.ClockedSchedule", "Schedules: one-off"),
            ("django_celery_beat.SolarSchedule", "Schedules: solar"),
            ("django_celery_results.TaskResult", "Task results"),
            ("django_celery_results.GroupResult", "Task group results"),
            ("axes.AccessAttempt", "Login attempts"),
            ("axes.AccessFailureLog", "Login failures"),
            ("axes.AccessLog", "Login log"),
            ("rest_framework_api_key.APIKey", "API key library keys"),
        ),
        administrators_only=True,
    ),
)
_WHERE = {label: (heading, name) for heading in MENU for label, name in heading.screens}


def role_names(user: Any) -> frozenset[str]:
    """The member's roles (group names), read once per user object and kept on it, as Django keeps permissions
    (``_perm_cache``): a request's user is loaded for that request. Each menu build asks twice (the app dict and
    the regrouping) and the start page builds it twice and names the roles: five queries before (page_budget)."""
    names: frozenset[str] | None = getattr(user, "_role_names_cache", None)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True))
        user._role_names_cache = names
    return names


def is_administrator(user: Any) -> bool:
    return bool(user.is_superuser or ADMINISTRATOR in role_names(user))


def name_of(model_label: str) -> str | None:
    found = _WHERE.get(model_label)
    return found[1] if found else None


def heading_of(model_label: str) -> Heading | None:
    found = _WHERE.get(model_label)
    return found[0] if found else None


def regroup(app_list: list[dict[str, Any]], user: Any) -> list[dict[str, Any]]:
    """Django's app list (apps with their permitted models) as the menu's headings, in order, renamed; the
    System heading only for Administrators; unknown models under "Other"."""
    screens: dict[str, dict[str, Any]] = {}
    others: list[dict[str, Any]] = []
    for app in app_list:
        for model in app["models"]:
            label = model["model"]._meta.label
            if label in _WHERE:
                screens[label] = {**model, "name": _WHERE[label][1]}
            else:
                others.append({**model, "name": f"{app['name']}: {model['name']}"})
    administrator: bool | None = None
    result = []
    for heading in MENU:
        models = [screens[label] for label, _ in heading.screens if label in screens]
        if not models:
            continue
        if heading.administrators_only:
            administrator = is_administrator(user) if administrator is None else administrator
            if not administrator:
                continue
        result.append(_app(heading.key, heading.label, models))
    if others:
        result.append(_app("other", "Other", others))
    return result


def rename(app: dict[str, Any]) -> dict[str, Any]:
    """One app's page (``/admin/<app_label>/``): its screens renamed, under the heading of its first screen."""
    models = []
    heading = None
    for model in app["models"]:
        label = model["model"]._meta.label
        heading = heading or heading_of(label)
        models.append({**model, "name": name_of(label) or model["name"]})
    return {**app, "name": heading.label if heading else app["name"], "models": models}


def _app(key: str, label: str, models: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": label,
        "app_label": key,
        # a heading is no app: its title links to its first screen (there is no /admin/<heading>/ page)
        "app_url": models[0]["admin_url"] or "",
        "has_module_perms": True,
        "models": models,
    }


# One line per role on the start page: what the role is for, in its members' words (the screens and queues
# below it come from the member's permissions; this only names the job).
ROLE_PURPOSE = {
    "Administrator": "Staff, roles and API clients; jurisdictions and rule packs; the schedule, webhooks and devices.",
    "MLRO": "Money-laundering decisions: restrict accounts, decide exclusion lifts and held identity edits; lead KYC"
    " reviews (assign, decide, second approval of level 3).",
    "AML Analyst": "Reviews: restrict accounts, decide exclusion lifts and corrections, read the audit trail.",
    "Finance Officer": "Payments: approve or hold withdrawals, ask for and approve manual adjustments; run and"
    " schedule the financial reports and the regulators' returns.",
    "Support Agent": "Players' questions and safer gambling: interactions, exclusions, limits, lift requests.",
    "KYC Officer": "Identity: review players' documents (KYC queue), check and correct their details, decide held"
    " identity edits.",
    "CRM Manager": "Campaigns: find players and set their marketing tags on the player page.",
}


def roles_of(user: Any) -> list[tuple[str, str]]:
    """The member's roles with their purpose, in the order of ROLE_PURPOSE."""
    names = role_names(user)
    return [(role, purpose) for role, purpose in ROLE_PURPOSE.items() if role in names]
