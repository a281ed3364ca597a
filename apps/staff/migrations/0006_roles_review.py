"""The roles as an operator runs them (issue 12): what README's Roles table promised and what the groups held had
drifted apart. The table is now generated from the roles modules (``manage.py roles_table --write``).

- Support Agents no longer see the ledger, its entries, withdrawals or the outbox: support answers players, and a
  withdrawal on hold or a pattern of reversals is what an AML review looks like from outside (tipping off); the
  outbox is plumbing, an Administrator's queue.
- Administrators may reset a lost second factor through a permission of its own (the action was open to anyone
  who could read the staff list).
"""

from django.db import migrations

# Frozen: what this migration grants and revokes; later edits of the roles modules must not change history.
GRANTED = {"Administrator": ("staff.reset_second_factor",)}
REVOKED = {
    "Support Agent": (
        "core.view_outboxevent",
        "core.view_outboxdelivery",
        "wallet.view_ledgertransaction",
        "wallet.view_entry",
        "wallet.view_withdrawal",
    ),
}


def _permissions(apps, dotted_names):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for dotted in dotted_names:
        app_label, codename = dotted.split(".", 1)
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if permission is None:
            raise LookupError(f"permission {dotted!r} does not exist")
        found.append(permission)
    return found


def _create_permissions(apps):
    """Permissions are normally created after migrations run; the new one must exist before it is granted."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None


def forwards(apps, schema_editor):
    _create_permissions(apps)
    Group = apps.get_model("auth", "Group")
    for role, perms in GRANTED.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*_permissions(apps, perms))
    for role, perms in REVOKED.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, perms))


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role, perms in REVOKED.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*_permissions(apps, perms))
    for role, perms in GRANTED.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, perms))


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0005_reset_second_factor_permission"),
        ("core", "0002_roles"),
        ("wallet", "0009_view_entry"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
