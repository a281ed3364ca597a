"""The reports' permissions for the roles: Finance, the MLRO, AML Analysts, KYC Officers, CRM Managers, and
Administrators (the runs list only)."""

from django.db import migrations

# Frozen: the data as this migration wrote it; later edits of apps/reports/roles.py must not change history.
REPORTS_PERMISSIONS = {
    "Finance Officer": (
        "reports.view_reportrun",
        "reports.run_financial",
        "reports.run_regulatory",
        "reports.run_marketing",
        "reports.run_player_statement",
        "reports.schedule_report",
        "reports.view_dashboard_finance",
    ),
    "MLRO": (
        "reports.view_reportrun",
        "reports.run_regulatory",
        "reports.run_compliance",
        "reports.run_aml",
        "reports.run_player_statement",
        "reports.schedule_report",
        "reports.view_dashboard_finance",
    ),
    "AML Analyst": ("reports.view_reportrun", "reports.run_compliance", "reports.run_aml"),
    "KYC Officer": ("reports.view_reportrun", "reports.run_compliance"),
    "CRM Manager": ("reports.view_reportrun", "reports.run_marketing"),
    "Administrator": ("reports.view_reportrun",),
}


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
    grant_role_permissions(apps, REPORTS_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("staff", "0006_roles_review")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
