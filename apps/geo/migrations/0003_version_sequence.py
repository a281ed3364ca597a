"""Configuration versions come from a sequence: a bump that is rolled back still uses up its number, so a
process that saw the uncommitted version can never mistake a later, different configuration for it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("geo", "0002_seed_rule_packs")]
    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE geo_config_version_seq START 2",
            "DROP SEQUENCE geo_config_version_seq",
        )
    ]
