"""API clients are bound to brands; every client that predates brands gets the default brand (code "default"),
the brand the players migration put every existing player in, so no client loses sight of its players."""

from django.db import migrations, models

DEFAULT_BRAND_CODE = "default"  # frozen: the same code as players.0007_brand


def bind_existing_clients_to_default_brand(apps, schema_editor):
    ApiClient = apps.get_model("api", "ApiClient")
    Brand = apps.get_model("players", "Brand")
    brand, _ = Brand.objects.get_or_create(code=DEFAULT_BRAND_CODE, defaults={"name": "Default brand"})
    for client in ApiClient.objects.all():
        if not client.brands.exists():
            client.brands.add(brand)


# Frozen: administrators manage brands (they bind API clients to them); staff lists filter by brand for everyone.
BRAND_PERMISSIONS = {"Administrator": ("players.view_brand", "players.add_brand", "players.change_brand")}


def grant_brand_permissions(apps, schema_editor):
    """A frozen copy of apps.staff.roles.grant_role_permissions (migrations must not import live code)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in BRAND_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_webhooks_outbox"),
        ("players", "0007_brand"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AddField(
            model_name="apiclient",
            name="brands",
            field=models.ManyToManyField(
                blank=True,
                help_text="The brands whose players this client may see and register; every other player is a 404.",
                related_name="api_clients",
                to="players.brand",
            ),
        ),
        migrations.RunPython(bind_existing_clients_to_default_brand, migrations.RunPython.noop),
        migrations.RunPython(grant_brand_permissions, migrations.RunPython.noop),
    ]
