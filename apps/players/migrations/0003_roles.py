"""What each role may do with players and the geo configuration."""

from django.db import migrations

from apps.players.roles import PLAYER_PERMISSIONS
from apps.staff.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, PLAYER_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("players", "0002_player_permissions"), ("geo", "0003_version_sequence"), ("staff", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
