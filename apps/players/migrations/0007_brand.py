"""Brands: every player belongs to one. Players that predate brands join the default brand (code "default")."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

# Frozen here (not imported from apps.players.models): migrations must not depend on live code.
DEFAULT_BRAND_CODE = "default"


def default_brand_for_existing_players(apps, schema_editor):
    Brand = apps.get_model("players", "Brand")
    Player = apps.get_model("players", "Player")
    brand, _ = Brand.objects.get_or_create(code=DEFAULT_BRAND_CODE, defaults={"name": "Default brand"})
    Player.objects.filter(brand__isnull=True).update(brand=brand)


class Migration(migrations.Migration):
    dependencies = [
        ("players", "0006_eligibility_identity"),
    ]

    operations = [
        migrations.CreateModel(
            name="Brand",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "code",
                    models.SlugField(help_text="Stable short name, e.g. lucky-spins", max_length=40, unique=True),
                ),
                ("name", models.CharField(max_length=100)),
                (
                    "is_active",
                    models.BooleanField(default=True, help_text="Inactive: no new registrations through the API"),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
            ],
            options={"ordering": ("name",)},
        ),
        migrations.AddField(
            model_name="player",
            name="brand",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="players", to="players.brand"
            ),
        ),
        migrations.RunPython(default_brand_for_existing_players, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="player",
            name="brand",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="players", to="players.brand"
            ),
        ),
        migrations.AddIndex(
            model_name="player",
            index=models.Index(fields=["brand", "-id"], name="player_brand_idx"),
        ),
        migrations.RemoveConstraint(
            model_name="player",
            name="player_external_id_eligibility",
        ),
        migrations.AddConstraint(
            model_name="player",
            constraint=models.UniqueConstraint(
                fields=("external_id",),
                include=(
                    "id",
                    "status",
                    "blocked_deposit",
                    "blocked_bet",
                    "blocked_withdrawal",
                    "blocked_bonus",
                    "blocked_marketing",
                    "date_of_birth",
                    "country",
                    "region",
                    "currency",
                    "marketing_email",
                    "marketing_sms",
                    "marketing_phone",
                    "marketing_post",
                    "identity_fingerprint",
                    "brand",
                ),
                name="player_external_id_eligibility",
            ),
        ),
    ]
