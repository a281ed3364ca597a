"""Record what the exclusions in force when this migration runs cover, as ``coverage.coverage_record`` does for a new
one (the same links, one level deep), in plain SQL so the migration never depends on live code. An exclusion that
already has coverage rows is left alone; running it again adds nothing."""

from django.db import migrations

BACKFILL = """
WITH live AS (
    SELECT e.id, e.player_id, e.created_at FROM responsible_exclusion e
    WHERE e.superseded_by_id IS NULL AND (e.released_at IS NULL OR e.released_at > now())
      AND NOT EXISTS (SELECT 1 FROM responsible_exclusioncover c WHERE c.exclusion_id = e.id)
),
person AS (
    SELECT l.id AS exclusion_id, l.created_at, p.id AS player_id, p.identity_fingerprint, p.email_hash, p.phone_hash,
           CASE WHEN p.id = x.id THEN 'excluded'
                WHEN x.identity_fingerprint <> '' AND p.identity_fingerprint = x.identity_fingerprint THEN 'fingerprint'
                WHEN p.email_hash = x.email_hash THEN 'email'
                ELSE 'phone' END AS link
    FROM live l
    JOIN players_player x ON x.id = l.player_id
    JOIN players_player p ON p.id = x.id
        OR (x.identity_fingerprint <> '' AND p.identity_fingerprint = x.identity_fingerprint)
        OR p.email_hash = x.email_hash
        OR (x.phone_hash <> '' AND p.phone_hash = x.phone_hash)
),
instruments AS (
    SELECT DISTINCT pe.exclusion_id, pe.created_at, t.instrument_fingerprint AS key
    FROM person pe JOIN wallet_transaction t ON t.player_id = pe.player_id
    WHERE t.instrument_fingerprint <> ''
),
card_accounts AS (
    SELECT DISTINCT i.exclusion_id, i.created_at, t.player_id
    FROM instruments i JOIN wallet_transaction t ON t.instrument_fingerprint = i.key
    WHERE t.instrument_fingerprint <> ''
),
new_rows AS (
    SELECT exclusion_id, 'account' AS kind, player_id, '' AS key, link, created_at FROM person
    UNION ALL
    SELECT exclusion_id, 'account', player_id, '', 'instrument', created_at FROM card_accounts
    UNION ALL
    SELECT exclusion_id, k.kind, NULL, k.key, '', created_at
    FROM person CROSS JOIN LATERAL (VALUES ('fingerprint', identity_fingerprint), ('email', email_hash),
                                           ('phone', phone_hash)) AS k(kind, key)
    WHERE k.key <> ''
    UNION ALL
    SELECT exclusion_id, 'instrument', NULL, key, '', created_at FROM instruments
)
INSERT INTO responsible_exclusioncover (exclusion_id, kind, player_id, key, link, created_at)
SELECT exclusion_id, kind, player_id, key, link, created_at FROM new_rows
ON CONFLICT DO NOTHING
"""


class Migration(migrations.Migration):
    dependencies = [("responsible", "0005_person_coverage")]
    operations = [migrations.RunSQL(BACKFILL, migrations.RunSQL.noop)]
