"""SLA policies by case type and priority (high 24 h, medium 72 h, low 168 h of working time), the compliance
inbox (the AML Analyst team, London working hours and England's public holidays), and the roles' permissions."""

from datetime import time

from django.db import migrations

# Frozen: the data as this migration wrote it; later edits of apps/compliance/roles.py must not change history.
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
COMPLIANCE_PERMISSIONS = {"AML Analyst": ANALYST, "MLRO": (*ANALYST, *LEAD, *CONFIGURE), "Administrator": CONFIGURE}
HOURS = {"high": 24, "medium": 72, "low": 168}
TYPES = ("aml", "fraud", "responsible_gambling", "kyc_edd", "sanctions")


def grant_role_permissions(apps, role_permissions):
    """A frozen copy of apps.staff.roles.grant_role_permissions as it was when this migration was written."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=role)
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            try:
                permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
            except Permission.DoesNotExist as exc:
                raise LookupError(f"role {role!r}: permission {dotted!r} does not exist") from exc
            group.permissions.add(permission)


def forwards(apps, schema_editor):
    grant_role_permissions(apps, COMPLIANCE_PERMISSIONS)
    SlaPolicy = apps.get_model("compliance", "SlaPolicy")
    for case_type in TYPES:
        for priority, hours in HOURS.items():
            SlaPolicy.objects.get_or_create(case_type=case_type, priority=priority, defaults={"hours": hours})
    Group = apps.get_model("auth", "Group")
    CaseInbox = apps.get_model("compliance", "CaseInbox")
    team = Group.objects.get(name="AML Analyst")
    CaseInbox.objects.get_or_create(
        team=team,
        defaults={
            "name": "Compliance",
            "case_types": list(TYPES),
            "time_zone": "Europe/London",
            "holiday_country": "GB",
            "holiday_subdivision": "ENG",
            "workday_start": time(9, 0),
            "workday_end": time(17, 30),
            "workdays": [1, 2, 3, 4, 5],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial"), ("staff", "0006_roles_review")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
