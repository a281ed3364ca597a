"""Finance approves and settles withdrawals and adjustments; AML can hold withdrawals; support can look."""

from django.db import migrations

from apps.staff.roles import grant_role_permissions
from apps.wallet.roles import WALLET_PERMISSIONS


def grant(apps, schema_editor):
    grant_role_permissions(apps, WALLET_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0002_withdrawal_withdrawalhold_adjustment_and_more"), ("staff", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
