"""Support runs responsible-gambling reviews; AML/MLRO and administrators decide lifts (maker-checker)."""

from django.db import migrations

# Frozen: the permission data as this migration granted it; later edits of the roles modules must not change history.
# (view_exclusioncorrection came later, with responsible/0003_roles_corrections)
VIEW = (
    "responsible.view_exclusion",
    "responsible.view_limit",
    "responsible.view_limitchange",
    "responsible.view_flag",
    "responsible.view_interaction",
    "responsible.view_registercheck",
)
RESPONSIBLE_PERMISSIONS = {
    # support staff run responsible-gambling reviews: they record interactions, impose and propose lifts
    "Support Agent": (
        *VIEW,
        "responsible.add_interaction",
        "responsible.exclude_player",
        "responsible.request_lift",
        "responsible.set_operator_limit",
        "responsible.correct_exclusion",
    ),
    "AML Analyst": (*VIEW, "responsible.exclude_player", "responsible.decide_lift", "responsible.correct_exclusion"),
    "MLRO": (*VIEW, "responsible.exclude_player", "responsible.decide_lift", "responsible.correct_exclusion"),
    "KYC Officer": VIEW,
    "Finance Officer": VIEW,
    "Administrator": (*VIEW, "responsible.decide_lift", "responsible.correct_exclusion"),
}


def grant_role_permissions(apps, role_permissions):
    """A frozen copy of apps.staff.roles.grant_role_permissions as it was when this migration was written.

    Permissions are normally created after migrations run; creating them here first lets the migration grant
    permissions of models created earlier in the same ``migrate``.
    """
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


def grant(apps, schema_editor):
    grant_role_permissions(apps, RESPONSIBLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("responsible", "0001_initial"), ("staff", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
