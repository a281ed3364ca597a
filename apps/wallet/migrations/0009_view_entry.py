"""Whoever sees ledger transactions sees their entries (the legs): no role could, so a transaction's page showed
no entries to anyone."""

from django.db import migrations

# Frozen: the grant as this migration made it.
ENTRY_PERMISSIONS = dict.fromkeys(
    ("Finance Officer", "MLRO", "AML Analyst", "Support Agent", "Administrator"), ("wallet.view_entry",)
)


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
    grant_role_permissions(apps, ENTRY_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0008_rollups_and_posting_queue"), ("staff", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
