"""Every role that sees exclusions also sees their corrections (the checker's queue)."""

from django.db import migrations

from apps.staff.roles import grant_role_permissions

ROLES = ("Support Agent", "AML Analyst", "MLRO", "KYC Officer", "Finance Officer", "Administrator")


def grant(apps, schema_editor):
    grant_role_permissions(apps, dict.fromkeys(ROLES, ("responsible.view_exclusioncorrection",)))


class Migration(migrations.Migration):
    dependencies = [("responsible", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
