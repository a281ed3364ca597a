from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.wallet.selectors import ledger_mismatches, unbalanced_transactions


class Command(BaseCommand):
    help = "Re-verify every player balance against its entries and every transaction's balance; exit 1 on a difference."

    def handle(self, *args: Any, **options: Any) -> None:
        mismatches = ledger_mismatches()
        unbalanced = unbalanced_transactions()
        for m in mismatches:
            self.stderr.write(f"account {m.account_id}: stored {m.stored}, entries sum to {m.from_entries}")
        for txn in unbalanced:
            self.stderr.write(f"transaction {txn}: entries do not sum to zero")
        if mismatches or unbalanced:
            raise CommandError(f"Ledger differs: {len(mismatches)} account(s), {len(unbalanced)} transaction(s).")
        self.stdout.write(self.style.SUCCESS("Ledger verified: every balance equals the sum of its entries."))
