"""An exclusion follows the person: what it covers (ExclusionCover, append-only) and identity edits held for a
second person (IdentityChangeRequest). Also an index on the ledger's payment instruments, so an exclusion finds the
accounts that paid with the person's cards when it is placed (a partial index: only rows that name an instrument).
"""

import django.contrib.postgres.fields
import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

# Frozen: the grants as this migration made them (later edits of apps.responsible.roles must not change history).
GRANTS = {
    "Support Agent": ("responsible.view_identitychangerequest",),
    "AML Analyst": ("responsible.view_identitychangerequest",),
    "MLRO": ("responsible.view_identitychangerequest", "responsible.decide_identity_change"),
    "KYC Officer": ("responsible.view_identitychangerequest", "responsible.decide_identity_change"),
    "Finance Officer": ("responsible.view_identitychangerequest",),
    "Administrator": ("responsible.view_identitychangerequest", "responsible.decide_identity_change"),
}
INSTRUMENT_INDEX = (
    "CREATE INDEX IF NOT EXISTS rg_wallet_txn_instrument_idx ON wallet_transaction (instrument_fingerprint, player_id) "
    "WHERE instrument_fingerprint <> ''"
)


def grant(apps, schema_editor):
    """A frozen copy of apps.staff.roles.grant_role_permissions as it was when this migration was written."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("players", "0007_brand"),
        ("responsible", "0004_correction_guard"),
        ("wallet", "0004_no_duplicate_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IdentityChangeRequest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "changes",
                    models.JSONField(
                        encoder=django.core.serializers.json.DjangoJSONEncoder,
                        help_text="field -> {old, new}: the whole edit",
                    ),
                ),
                ("reason", models.CharField(max_length=500)),
                (
                    "exclusion_ids",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.BigIntegerField(),
                        default=list,
                        help_text="The exclusions covering it then",
                        size=None,
                    ),
                ),
                ("requested_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("approved", models.BooleanField(null=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "player",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="identity_change_requests",
                        to="players.player",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "permissions": [("decide_identity_change", "Apply or refuse a held identity edit (second person)")],
            },
        ),
        migrations.CreateModel(
            name="ExclusionCover",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("account", "Account"),
                            ("fingerprint", "Identity fingerprint (name and birth date)"),
                            ("email", "E-mail (keyed hash)"),
                            ("phone", "Phone (keyed hash)"),
                            ("instrument", "Payment instrument"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "key",
                    models.CharField(blank=True, help_text="The keyed hash or instrument fingerprint", max_length=64),
                ),
                (
                    "link",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("excluded", "the excluded account"),
                            ("fingerprint", "same person by birth-date/name"),
                            ("email", "same e-mail"),
                            ("phone", "same phone"),
                            ("instrument", "same card"),
                            ("profile_edit", "covered when its profile was edited"),
                        ],
                        help_text="Accounts: how found",
                        max_length=12,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "exclusion",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="covers", to="responsible.exclusion"
                    ),
                ),
                (
                    "player",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="players.player",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("player__isnull", False)),
                        fields=["player"],
                        include=("exclusion",),
                        name="rg_cover_player_idx",
                    ),
                    models.Index(
                        condition=models.Q(("key", ""), _negated=True),
                        fields=["key"],
                        include=("kind", "exclusion"),
                        name="rg_cover_key_idx",
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("key", ""), ("kind", "account"), ("player__isnull", False)),
                            models.Q(
                                models.Q(("kind", "account"), _negated=True),
                                ("player__isnull", True),
                                models.Q(("key", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="rg_cover_account_or_key",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("kind", "account")),
                        fields=("exclusion", "player"),
                        name="rg_cover_account_once",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("kind", "account"), _negated=True),
                        fields=("exclusion", "kind", "key"),
                        name="rg_cover_key_once",
                    ),
                ],
            },
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="exclusioncover",
            trigger=pgtrigger.compiler.Trigger(
                name="rg_cover_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="6af357e861e7c3747499df9d71f1efe13143d785",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_rg_cover_append_only_d8920",
                    table="responsible_exclusioncover",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="identitychangerequest",
            index=models.Index(
                condition=models.Q(("approved", None)), fields=["player"], name="rg_identity_change_pending_idx"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="identitychangerequest",
            trigger=pgtrigger.compiler.Trigger(
                name="rg_identity_change_no_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot delete rows from % table', TG_TABLE_NAME;",
                    hash="4054f989102dea52b738dcfb3618aaa3e668ad93",
                    operation="DELETE",
                    pgid="pgtrigger_rg_identity_change_no_delete_d7689",
                    table="responsible_identitychangerequest",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="identitychangerequest",
            trigger=pgtrigger.compiler.Trigger(
                name="rg_identity_change_guard",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    IF OLD.approved IS NOT NULL THEN\n        RAISE EXCEPTION 'identity change request % is already decided', OLD.id USING ERRCODE = 'check_violation';\n    END IF;\n    IF NEW.player_id IS DISTINCT FROM OLD.player_id OR NEW.changes IS DISTINCT FROM OLD.changes\n       OR NEW.reason IS DISTINCT FROM OLD.reason OR NEW.requested_by_id IS DISTINCT FROM OLD.requested_by_id\n       OR NEW.requested_at IS DISTINCT FROM OLD.requested_at\n       OR NEW.exclusion_ids IS DISTINCT FROM OLD.exclusion_ids THEN\n        RAISE EXCEPTION 'identity change request % cannot change (decide it)', OLD.id USING ERRCODE = 'check_violation';\n    END IF;\n    IF NEW.approved IS NOT NULL AND (NEW.decided_by_id IS NULL OR NEW.decided_by_id = OLD.requested_by_id) THEN\n        RAISE EXCEPTION 'identity change request % needs a second person', OLD.id USING ERRCODE = 'check_violation';\n    END IF;\n    RETURN NEW;\n",
                    hash="d2cccd4b3591eb636104035761e4c8d5116208c1",
                    operation="UPDATE",
                    pgid="pgtrigger_rg_identity_change_guard_97fbe",
                    table="responsible_identitychangerequest",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunSQL(INSTRUMENT_INDEX, "DROP INDEX IF EXISTS rg_wallet_txn_instrument_idx"),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
