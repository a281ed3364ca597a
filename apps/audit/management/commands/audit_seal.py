from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.audit.selectors import audit_seal_lag
from apps.audit.services import SEAL_BATCH_SIZE, audit_seal


class Command(BaseCommand):
    help = (
        "Chain the audit events written since the last seal (the beat task does this every few seconds). "
        "Does nothing when another sealer is at work."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=SEAL_BATCH_SIZE, help="events per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        sealed = audit_seal(batch_size=options["batch_size"])
        lag = audit_seal_lag()
        message = f"Sealed {sealed} audit events; {lag.unsealed} waiting"
        if lag.unsealed:
            message += f" (oldest {lag.seconds():.1f} s: still being written, or another sealer is at work)"
        self.stdout.write(self.style.SUCCESS(message + "."))
