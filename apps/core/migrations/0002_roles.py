"""Administrators see and redeliver webhooks; support can see what the platform was told."""

from django.db import migrations

from apps.core.roles import OUTBOX_PERMISSIONS
from apps.staff.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, OUTBOX_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_webhooks_outbox"), ("staff", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
