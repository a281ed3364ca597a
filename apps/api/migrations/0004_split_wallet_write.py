"""wallet:write is split into wallet:payments (deposits, withdrawals) and wallet:game (bets, wins, rollbacks).

An existing key keeps what it could do (both); an administrator then removes the one it does not need.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import migrations, models

import apps.api.models

OLD, NEW = "wallet:write", ("wallet:payments", "wallet:game")


def split(apps, schema_editor):
    ApiClient = apps.get_model("api", "ApiClient")
    for client in ApiClient.objects.filter(scopes__contains=[OLD]):
        client.scopes = sorted((set(client.scopes) - {OLD}) | set(NEW))
        client.save(update_fields=["scopes"])


def join(apps, schema_editor):
    ApiClient = apps.get_model("api", "ApiClient")
    for client in ApiClient.objects.filter(scopes__overlap=list(NEW)):
        client.scopes = sorted((set(client.scopes) - set(NEW)) | {OLD})
        client.save(update_fields=["scopes"])


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0003_apiclient_brands"),
    ]

    operations = [
        migrations.AlterField(
            model_name="apiclient",
            name="scopes",
            field=ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("players:read", "Read players and eligibility"),
                        ("players:write", "Register and update players"),
                        ("wallet:read", "Read balances and transactions"),
                        ("wallet:payments", "Deposits and withdrawals (payment pages)"),
                        ("wallet:game", "Game postings: bets, wins and rollbacks (game servers, aggregators)"),
                        ("responsible:write", "Set limits, time-outs and self-exclusions"),
                        ("kyc:write", "Upload KYC documents"),
                        ("bonuses:write", "Claim and award bonuses"),
                    ],
                    max_length=32,
                ),
                blank=True,
                default=list,
                size=None,
                validators=[apps.api.models._validate_scopes],
            ),
        ),
        migrations.RunPython(split, join),
    ]
