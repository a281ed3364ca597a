"""An index on a target's events by action: the player page counts a player's ``player.viewed`` events and shows
the newest, and every view of the page adds one. With ``audit_target_idx`` alone both read every event of the
player from the table and filtered on the action, a cost that grew with every view (docs/PERFORMANCE.md,
"page_budget"); here they are a range of this index.

Built CONCURRENTLY: every service writes audit rows, and a plain CREATE INDEX would hold their inserts for as long
as it takes on a long trail. Only an index: no row, trigger or privilege of the append-only table changes.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [
        ("audit", "0004_lean_writes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_target_action_idx "
                    "ON audit_event (target_type, target_id, action, id DESC)",
                    "DROP INDEX CONCURRENTLY IF EXISTS audit_target_action_idx",
                ),
            ],
            state_operations=[
                migrations.AddIndex(
                    model_name="auditevent",
                    index=models.Index(
                        fields=["target_type", "target_id", "action", "-id"], name="audit_target_action_idx"
                    ),
                ),
            ],
        ),
    ]
