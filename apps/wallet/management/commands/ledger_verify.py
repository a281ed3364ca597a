from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.wallet.rollups import mismatches as rollup_mismatches
from apps.wallet.selectors import ledger_mismatches, unbalanced_transactions


class Command(BaseCommand):
    help = (
        "Re-verify every player balance against its entries, every transaction's balance and every day rollup "
        "against the ledger; exit 1 on a difference."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        mismatches = ledger_mismatches()
        unbalanced = unbalanced_transactions()
        days = rollup_mismatches()
        for m in mismatches:
            self.stderr.write(f"account {m.account_id}: stored {m.stored}, entries sum to {m.from_entries}")
        for txn in unbalanced:
            self.stderr.write(f"transaction {txn}: entries do not sum to zero")
        for d in days:
            self.stderr.write(
                f"rollup player {d.player_id} {d.currency} {d.day} {d.column}: stored {d.stored}, "
                f"ledger {d.from_ledger} (manage.py wallet_rollups_build repairs it)"
            )
        if mismatches or unbalanced or days:
            raise CommandError(
                f"Ledger differs: {len(mismatches)} account(s), {len(unbalanced)} transaction(s), "
                f"{len(days)} rollup value(s)."
            )
        self.stdout.write(
            self.style.SUCCESS(
                "Ledger verified: every balance equals the sum of its entries, every day rollup equals the ledger."
            )
        )
