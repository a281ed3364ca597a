"""Indexes the rules read by (created here, on other apps' tables, as responsible/0005 did for its own read):

- a player's deposits in a time window (the hour windows of amount, count and structuring rules), a partial index
  that bets and wins never touch;
- the logins of the last minutes (the sweep's active players): a BRIN on ``players_playerlogin.at``, an
  append-only table in time order, a few pages whatever its size.
"""

from django.db import migrations

DEPOSITS = (
    "CREATE INDEX IF NOT EXISTS compliance_wallet_txn_deposit_idx ON wallet_transaction (player_id, created_at) "
    "WHERE type = 'deposit'"
)
LOGINS = "CREATE INDEX IF NOT EXISTS compliance_player_login_at_brin ON players_playerlogin USING brin (at)"


class Migration(migrations.Migration):
    dependencies = [("compliance", "0004_case_at_risk_idx"), ("wallet", "0001_initial"), ("players", "0001_initial")]
    operations = [
        migrations.RunSQL(DEPOSITS, "DROP INDEX IF EXISTS compliance_wallet_txn_deposit_idx"),
        migrations.RunSQL(LOGINS, "DROP INDEX IF EXISTS compliance_player_login_at_brin"),
    ]
