"""Roles get the restriction permissions; existing statuses and blocks get a restriction record."""

from django.db import migrations

# Frozen: the permission data as this migration granted it; later edits of the roles modules must not change history.
RESTRICTION_PERMISSIONS = {
    "MLRO": (
        "players.view_compliance",
        "players.act_compliance",
        "players.act_responsible_gambling",
        "players.act_finance",
        "players.act_support",
        "players.view_playerrestriction",
    ),
    "AML Analyst": (
        "players.view_compliance",
        "players.act_compliance",
        "players.act_responsible_gambling",
        "players.act_support",
        "players.view_playerrestriction",
    ),
    "Finance Officer": ("players.act_finance", "players.view_playerrestriction"),
    "Administrator": (
        "players.act_responsible_gambling",
        "players.act_finance",
        "players.act_support",
        "players.view_playerrestriction",
    ),
    # support staff run responsible-gambling reviews (apps.responsible): they ask lifts of operator exclusions
    "Support Agent": ("players.act_responsible_gambling", "players.view_playerrestriction"),
    "KYC Officer": ("players.view_playerrestriction",),
}
LEGACY_REASON = "recorded before restrictions named their authority"


def grant_role_permissions(apps, role_permissions):
    """A frozen copy of apps.staff.roles.grant_role_permissions as it was when this migration was written."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=role)
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            try:
                permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
            except Permission.DoesNotExist as exc:
                raise LookupError(f"role {role!r}: permission {dotted!r} does not exist") from exc
            group.permissions.add(permission)


def grant_and_backfill(apps, schema_editor):
    """Existing statuses and blocks get a record. Their authority is unknown, so it is taken as compliance (fail
    closed: nobody lifts them alone), visible to compliance only."""
    grant_role_permissions(apps, RESTRICTION_PERMISSIONS)
    Player = apps.get_model("players", "Player")
    PlayerRestriction = apps.get_model("players", "PlayerRestriction")
    rows = []
    for player in Player.objects.exclude(status="active").only("id", "status", "status_reason").iterator():
        rows.append(
            PlayerRestriction(
                player_id=player.id,
                what="status",
                status=player.status,
                authority="compliance",
                reason=player.status_reason or LEGACY_REASON,
                visibility="compliance",
            )
        )
    for capability in ("deposit", "bet", "withdrawal", "bonus", "marketing"):
        for player_id in Player.objects.filter(**{f"blocked_{capability}": True}).values_list("id", flat=True):
            rows.append(
                PlayerRestriction(
                    player_id=player_id,
                    what=capability,
                    authority="compliance",
                    reason=LEGACY_REASON,
                    visibility="compliance",
                )
            )
    PlayerRestriction.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("players", "0008_restrictions_and_visibility")]
    operations = [migrations.RunPython(grant_and_backfill, migrations.RunPython.noop)]
