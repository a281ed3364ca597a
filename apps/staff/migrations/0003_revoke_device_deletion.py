"""Administrators no longer delete 2FA devices (a lost second factor is reset by the audited staff action).

The first version of 0002 granted ``delete_totpdevice`` and ``delete_staticdevice``; a later edit of the role data
dropped them, which changed nothing in databases migrated before it. This takes them back everywhere.
"""

from django.db import migrations

# Frozen: what this migration revokes.
REVOKED = {"Administrator": ("otp_totp.delete_totpdevice", "otp_static.delete_staticdevice")}


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in REVOKED.items():
        group = Group.objects.filter(name=role).first()
        if group is None:
            continue
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [("staff", "0002_roles"), ("otp_totp", "0001_initial"), ("otp_static", "0001_initial")]
    operations = [migrations.RunPython(revoke, migrations.RunPython.noop)]
