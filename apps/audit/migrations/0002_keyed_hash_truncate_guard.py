"""Keyed row hashes from now on (rows already written keep scheme 1, plain SHA-256, and verify with it), and a
trigger that refuses TRUNCATE to every role but the table's owner (see apps/audit/models.py for why the owner)."""

from django.db import migrations, models

REFUSE_TRUNCATE = """
CREATE OR REPLACE FUNCTION audit_event_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Only the owner may empty the trail (it could drop this trigger anyway; the test suite's flush runs as it).
    -- No session setting can lift this: unlike pgtrigger's triggers, there is no switch to flip.
    IF current_user <> (SELECT pg_catalog.pg_get_userbyid(relowner) FROM pg_catalog.pg_class WHERE oid = TG_RELID) THEN
        RAISE EXCEPTION 'audit_event is append-only: TRUNCATE refused for role %', current_user
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'The audit trail is never emptied; manage.py audit_verify compares it with its checkpoints.';
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event;
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_truncate();
"""

ALLOW_TRUNCATE = """
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event;
DROP FUNCTION IF EXISTS audit_event_refuse_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        # existing rows were hashed with plain SHA-256: they are scheme 1
        migrations.AddField(
            model_name="auditevent",
            name="hash_version",
            field=models.PositiveSmallIntegerField(
                default=1, help_text="1: SHA-256 (rows from before keyed hashing); 2: HMAC-SHA256"
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash_version",
            field=models.PositiveSmallIntegerField(
                default=2, help_text="1: SHA-256 (rows from before keyed hashing); 2: HMAC-SHA256"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("hash_version__in", (1, 2))), name="audit_hash_version_known"
            ),
        ),
        migrations.RunSQL(REFUSE_TRUNCATE, ALLOW_TRUNCATE),
    ]
