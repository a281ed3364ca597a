"""A client's reference is unique per transaction type (the bet a rollback names must be one bet).

The unique index is built CONCURRENTLY (postings keep running) and replaces the plain (api_client, reference)
index it covers. Ledger rows are immutable, so existing duplicates cannot be repaired here: the migration
stops and lists them for Finance to review (each second bet is one that could never be rolled back).
"""

from django.db import migrations, models

DUPLICATES = """
    SELECT api_client, reference, type, count(*) FROM wallet_transaction
    WHERE reference <> '' AND api_client <> ''
    GROUP BY api_client, reference, type HAVING count(*) > 1
    ORDER BY 1, 2, 3 LIMIT 20
"""


def refuse_existing_duplicates(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(DUPLICATES)
        rows = cursor.fetchall()
    if rows:
        listed = "; ".join(f"client {c} {t} reference {r!r} x{n}" for c, r, t, n in rows)
        raise RuntimeError(
            "wallet.0005: duplicate references in wallet_transaction (the first 20): "
            f"{listed}. Review them (a duplicated bet could never be rolled back) and settle each with an "
            "adjustment. The ledger is append-only, so the rows stay and this index cannot be built over them: "
            "see docs/ARCHITECTURE.md (duplicate references) before going on."
        )


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [
        ("wallet", "0004_no_duplicate_indexes"),
    ]

    operations = [
        migrations.RunPython(refuse_existing_duplicates, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS wallet_txn_reference_unique "
                    "ON wallet_transaction (api_client, reference, type) WHERE reference <> '' AND api_client <> ''",
                    "DROP INDEX CONCURRENTLY IF EXISTS wallet_txn_reference_unique",
                ),
                migrations.RunSQL(
                    "DROP INDEX CONCURRENTLY IF EXISTS wallet_txn_reference_idx",
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS wallet_txn_reference_idx "
                    "ON wallet_transaction (api_client, reference) WHERE NOT (reference = '')",
                ),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="ledgertransaction", name="wallet_txn_reference_idx"),
                migrations.AddConstraint(
                    model_name="ledgertransaction",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(~models.Q(reference=""), ~models.Q(api_client="")),
                        fields=("api_client", "reference", "type"),
                        name="wallet_txn_reference_unique",
                    ),
                ),
            ],
        ),
    ]
