"""Who sees the bonus-abuse flags: CRM Managers, AML Analysts and the MLRO (apps/bonuses/roles.py)."""

from django.db import migrations

# Frozen: the data as this migration wrote it.
FLAG_PERMISSIONS = {
    "CRM Manager": ("bonuses.view_bonusflag",),
    "AML Analyst": ("bonuses.view_bonusflag",),
    "MLRO": ("bonuses.view_bonusflag",),
}


def forwards(apps, schema_editor):
    import importlib

    importlib.import_module("apps.bonuses.migrations.0002_roles").grant_role_permissions(apps, FLAG_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("bonuses", "0003_abuse_flags"), ("bonuses", "0002_roles")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
