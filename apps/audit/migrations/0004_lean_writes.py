"""Leaner writes and seals (measured by bench/audit_chain.py): a writer makes one round trip, not two: its content
MAC covers a unique, time-ordered ``nonce`` instead of the id (no ``nextval`` first; the seal MAC binds the id), and
the database refuses a second row with the same nonce (a replayed event); the unique indexes on ``seq`` and
``row_hash`` cover the sealed rows only, so an INSERT no longer adds a NULL entry to each; the seal trigger compares
the row with itself, seal columns put back, instead of building two JSON documents (still every column, present or
future). No scheme-3 row exists outside development databases yet, so the scheme changes in place.
"""

from django.db import migrations, models

# Scheme-3 rows written between 0003 and this migration (development databases only, for an hour of
# issue 11) have a MAC over their id and no nonce; they cannot be re-MACed in SQL (no key in the database).
NO_INTERIM_ROWS = r"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_event WHERE hash_version = 3 AND nonce IS NULL) THEN
        RAISE EXCEPTION 'audit_event holds scheme-3 rows written by the interim version of migration 0003 (no nonce)'
            USING HINT = 'Only a development database can hold them: recreate it.';
    END IF;
END
$$;
"""

GUARD_INSERT = r"""
CREATE OR REPLACE FUNCTION audit_event_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS NULL AND NEW.prev_hash IS NULL AND NEW.row_hash IS NULL
       AND NEW.hash_version = 3 AND NEW.content_mac IS NOT NULL AND NEW.nonce IS NOT NULL THEN
        RETURN NEW;
    END IF;
    IF public.audit_event_is_owner(TG_RELID) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_event: a new event is written unsealed, with its nonce and content MAC (scheme 3); only audit_event_seal() chains it'
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""

GUARD_INSERT_BEFORE = r"""
CREATE OR REPLACE FUNCTION audit_event_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS NULL AND NEW.prev_hash IS NULL AND NEW.row_hash IS NULL
       AND NEW.hash_version = 3 AND NEW.content_mac IS NOT NULL THEN
        RETURN NEW;
    END IF;
    IF public.audit_event_is_owner(TG_RELID) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_event: a new event is written unsealed, with its content MAC (scheme 3); only audit_event_seal() chains it'
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""

GUARD_CHANGE = r"""
CREATE OR REPLACE FUNCTION audit_event_guard_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unchanged public.audit_event%ROWTYPE;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_event is append-only: DELETE of event #% refused', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.seq IS NOT NULL OR OLD.prev_hash IS NOT NULL OR OLD.row_hash IS NOT NULL THEN
        RAISE EXCEPTION 'audit_event is append-only: event #% is sealed and never changes', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT public.audit_event_is_owner(TG_RELID) THEN
        RAISE EXCEPTION 'audit_event is append-only: event #% is sealed only by audit_event_seal()', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.seq IS NULL OR NEW.prev_hash IS NULL OR NEW.row_hash IS NULL THEN
        RAISE EXCEPTION 'audit_event is append-only: a seal sets seq, prev_hash and row_hash of event #% together', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- the new row with its seal taken off must be the old row, column for column (a column added later included)
    unchanged := NEW;
    unchanged.seq := NULL;
    unchanged.prev_hash := NULL;
    unchanged.row_hash := NULL;
    IF unchanged IS DISTINCT FROM OLD THEN
        RAISE EXCEPTION 'audit_event is append-only: sealing event #% may set the seal columns only', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
"""

GUARD_CHANGE_JSONB = r"""
CREATE OR REPLACE FUNCTION audit_event_guard_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_event is append-only: DELETE of event #% refused', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.seq IS NOT NULL OR OLD.prev_hash IS NOT NULL OR OLD.row_hash IS NOT NULL THEN
        RAISE EXCEPTION 'audit_event is append-only: event #% is sealed and never changes', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT public.audit_event_is_owner(TG_RELID) THEN
        RAISE EXCEPTION 'audit_event is append-only: event #% is sealed only by audit_event_seal()', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.seq IS NULL OR NEW.prev_hash IS NULL OR NEW.row_hash IS NULL THEN
        RAISE EXCEPTION 'audit_event is append-only: a seal sets seq, prev_hash and row_hash of event #% together', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - ARRAY['seq', 'prev_hash', 'row_hash']) IS DISTINCT FROM
       (to_jsonb(OLD) - ARRAY['seq', 'prev_hash', 'row_hash']) THEN
        RAISE EXCEPTION 'audit_event is append-only: sealing event #% may set the seal columns only', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_sealed_chain"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="nonce",
            field=models.UUIDField(
                blank=True, help_text="Scheme 3: unique per row (time-ordered), covered by the content MAC", null=True
            ),
        ),
        migrations.RunSQL(NO_INTERIM_ROWS, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="content_mac",
            field=models.CharField(
                blank=True, help_text="Scheme 3: HMAC of the content, time and nonce", max_length=64, null=True
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("hash_version__lt", 3), ("nonce__isnull", False), _connector="OR"),
                name="audit_v3_has_nonce",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("nonce__isnull", False)), fields=("nonce",), name="audit_nonce_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("seq__isnull", False)), fields=("seq",), name="audit_seq_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("row_hash__isnull", False)), fields=("row_hash",), name="audit_row_hash_unique"
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="row_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(blank=True, help_text="Position in the chain (1, 2, ...)", null=True),
        ),
        migrations.RunSQL(GUARD_CHANGE, GUARD_CHANGE_JSONB),
        migrations.RunSQL(GUARD_INSERT, GUARD_INSERT_BEFORE),
    ]
