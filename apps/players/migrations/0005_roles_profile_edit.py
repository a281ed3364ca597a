"""Administrators and KYC Officers may correct a player's profile from the player page."""

from django.db import migrations

from apps.players.roles import PROFILE_EDIT_PERMISSIONS
from apps.staff.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, PROFILE_EDIT_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("players", "0004_eligibility_covering_index")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
