"""Administrators and KYC Officers may correct a player's profile from the player page."""

from django.db import migrations

# Frozen: the permission data as this migration granted it; later edits of the roles modules must not change history.
PROFILE_EDIT_PERMISSIONS = {
    "Administrator": ("players.change_player",),
    "KYC Officer": ("players.change_player",),
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
    grant_role_permissions(apps, PROFILE_EDIT_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("players", "0004_eligibility_covering_index")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
