"""Administrators configure the verification vendors (the webhook's senders and their secrets) and see the events
they sent; no other role does."""

from django.db import migrations

# Frozen: the permission data as this migration granted it; later edits of apps/kyc/roles.py must not change history.
VENDOR_PERMISSIONS = {
    "Administrator": ("kyc.view_vendor", "kyc.add_vendor", "kyc.change_vendor", "kyc.view_vendorevent"),
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


def grant(apps, schema_editor):
    grant_role_permissions(apps, VENDOR_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("kyc", "0004_roles"), ("staff", "0006_roles_review")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
