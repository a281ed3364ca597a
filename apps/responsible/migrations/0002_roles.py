"""Support runs responsible-gambling reviews; AML/MLRO and administrators decide lifts (maker-checker)."""

from django.db import migrations

from apps.responsible.roles import RESPONSIBLE_PERMISSIONS
from apps.staff.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, RESPONSIBLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("responsible", "0001_initial"), ("staff", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
