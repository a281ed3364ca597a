"""What each role may do with players and the geo configuration."""

from django.db import migrations

# Frozen: the permission data as this migration granted it; later edits of the roles modules must not change history.
READ = ("players.view_player", "players.view_playerlogin", "players.view_playernote")
PLAYER_PERMISSIONS = {
    "Support Agent": (*READ, "players.add_playernote"),
    "KYC Officer": (*READ, "players.add_playernote"),
    "AML Analyst": (*READ, "players.add_playernote", "players.change_player_blocks", "players.change_player_tags"),
    "MLRO": (
        *READ,
        "players.add_playernote",
        "players.change_player_blocks",
        "players.change_player_status",
        "players.change_player_tags",
    ),
    "CRM Manager": ("players.view_player", "players.change_player_tags"),
    "Finance Officer": (*READ, "players.change_player_blocks"),
    "Administrator": (
        *READ,
        "players.add_playernote",
        "players.change_player_blocks",
        "players.change_player_status",
        "players.change_player_tags",
        "geo.view_jurisdiction",
        "geo.add_jurisdiction",
        "geo.change_jurisdiction",
        "geo.view_rulepack",
        "geo.add_rulepack",
        "geo.change_rulepack",
        "geo.view_ipoverride",
        "geo.add_ipoverride",
        "geo.change_ipoverride",
        "geo.delete_ipoverride",
    ),
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
    grant_role_permissions(apps, PLAYER_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("players", "0002_player_permissions"), ("geo", "0003_version_sequence"), ("staff", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
