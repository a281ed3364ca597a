"""An audit chain without a global lock (issue 11): writers insert unsealed rows (scheme 3, with a content MAC), one
sealer chains them later through ``audit_event_seal()``; plain triggers keep every row append-only from its first
write (see apps/audit/models.py). Rows already written were chained in id order: they get their positions in it."""

import pgtrigger.migrations
from django.db import migrations, models

POSITIONS_BY_ID = """
UPDATE audit_event SET seq = ordered.position
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS position FROM audit_event) AS ordered
 WHERE audit_event.id = ordered.id;
"""

GUARDS = r"""
CREATE OR REPLACE FUNCTION audit_event_is_owner(relid oid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT current_user = pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c WHERE c.oid = relid
$$;

-- A new event comes unsealed, with its content MAC (scheme 3). Only the owner may write anything else (rows as
-- they were before sealing existed; it could drop this trigger anyway).
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

-- Append-only from the first write: no DELETE; exactly one UPDATE per row, the seal, which sets seq, prev_hash and
-- row_hash together from NULL, changes no other column, and is made by the owner (audit_event_seal() runs as it;
-- the application's role has no UPDATE privilege at all). No session setting lifts any of this.
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

DROP TRIGGER IF EXISTS audit_event_unsealed_insert ON audit_event;
CREATE TRIGGER audit_event_unsealed_insert BEFORE INSERT ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_guard_insert();
DROP TRIGGER IF EXISTS audit_event_seal_once ON audit_event;
CREATE TRIGGER audit_event_seal_once BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_guard_change();

-- The only way to seal: give p_ids, in this order, positions p_first_seq, p_first_seq + 1, ..., each linked to the
-- one before (the first to p_prev_hash), with the row hashes the sealer computed (it holds the key; the database
-- never does). Refuses a batch that does not link onto the sealed head it finds (another sealer was first) or
-- names a row that is missing or sealed already. SECURITY DEFINER: runs as the owner, the one role the
-- trigger lets seal; granted to the application's role by apps/core/dbroles.py.
CREATE OR REPLACE FUNCTION audit_event_seal(p_ids bigint[], p_row_hashes text[], p_first_seq bigint, p_prev_hash text)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    wanted integer := coalesce(array_length(p_ids, 1), 0);
    head_seq bigint;
    head_hash text;
    sealed integer;
BEGIN
    IF wanted = 0 THEN
        RETURN 0;
    END IF;
    IF coalesce(array_length(p_row_hashes, 1), 0) <> wanted THEN
        RAISE EXCEPTION 'audit_event_seal: % events but % row hashes', wanted, coalesce(array_length(p_row_hashes, 1), 0);
    END IF;
    SELECT e.seq, e.row_hash INTO head_seq, head_hash
      FROM public.audit_event e WHERE e.seq IS NOT NULL ORDER BY e.seq DESC LIMIT 1;
    IF coalesce(head_seq, 0) + 1 <> p_first_seq OR coalesce(head_hash, repeat('0', 64)) <> p_prev_hash THEN
        RAISE EXCEPTION 'audit_event_seal: the batch does not link onto the sealed head (position %)', coalesce(head_seq, 0)
            USING ERRCODE = 'serialization_failure', HINT = 'Another sealer ran at the same time; the next run seals these events.';
    END IF;
    UPDATE public.audit_event e
       SET seq = p_first_seq + s.ord - 1,
           prev_hash = CASE WHEN s.ord = 1 THEN p_prev_hash ELSE p_row_hashes[s.ord - 1] END,
           row_hash = s.row_hash
      FROM unnest(p_ids, p_row_hashes) WITH ORDINALITY AS s(id, row_hash, ord)
     WHERE e.id = s.id AND e.seq IS NULL;
    GET DIAGNOSTICS sealed = ROW_COUNT;
    IF sealed <> wanted THEN
        RAISE EXCEPTION 'audit_event_seal: % of % events are missing or sealed already', wanted - sealed, wanted;
    END IF;
    RETURN sealed;
END
$$;
REVOKE ALL ON FUNCTION audit_event_seal(bigint[], text[], bigint, text) FROM PUBLIC;
"""

NO_GUARDS = """
DROP TRIGGER IF EXISTS audit_event_seal_once ON audit_event;
DROP TRIGGER IF EXISTS audit_event_unsealed_insert ON audit_event;
DROP FUNCTION IF EXISTS audit_event_seal(bigint[], text[], bigint, text);
DROP FUNCTION IF EXISTS audit_event_guard_change();
DROP FUNCTION IF EXISTS audit_event_guard_insert();
DROP FUNCTION IF EXISTS audit_event_is_owner(oid);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_keyed_hash_truncate_guard"),
    ]

    operations = [
        # pgtrigger's Protect refused every UPDATE; the plain triggers below allow the one seal
        pgtrigger.migrations.RemoveTrigger(
            model_name="auditevent",
            name="audit_event_append_only",
        ),
        migrations.RemoveConstraint(
            model_name="auditevent",
            name="audit_hash_version_known",
        ),
        migrations.AddField(
            model_name="auditevent",
            name="content_mac",
            field=models.CharField(
                blank=True,
                help_text="Scheme 3: HMAC of the content and id, written with the row",
                max_length=64,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(
                blank=True, help_text="Position in the chain (1, 2, ...)", null=True, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash_version",
            field=models.PositiveSmallIntegerField(
                default=3,
                help_text="1: SHA-256 (rows from before keyed hashing); 2: HMAC-SHA256 (before sealing); 3: content MAC at write, sealed into the chain later",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="row_hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.RunSQL(POSITIONS_BY_ID, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(condition=models.Q(("seq__isnull", True)), fields=["id"], name="audit_unsealed_idx"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("hash_version__in", (1, 2, 3))), name="audit_hash_version_known"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("prev_hash__isnull", True), ("row_hash__isnull", True), ("seq__isnull", True)),
                    models.Q(("prev_hash__isnull", False), ("row_hash__isnull", False), ("seq__isnull", False)),
                    _connector="OR",
                ),
                name="audit_sealed_all_or_nothing",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("hash_version__lt", 3), ("content_mac__isnull", False), _connector="OR"),
                name="audit_v3_has_content_mac",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(condition=models.Q(("seq__gt", 0)), name="audit_seq_positive"),
        ),
        migrations.RunSQL(GUARDS, NO_GUARDS),
    ]
