"""``manage.py kyc_rotate_keys``: re-encrypt every encrypted KYC value with the newest key of KYC_FIELD_KEYS.

Rotation: put the new key first in KYC_FIELD_KEYS (keep the old ones after it), restart, run this command, then
drop the old keys. Idempotent and resumable (in batches, each its own transaction); audited once per run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.audit.services import SystemActor
from apps.kyc.keys import rotate_keys


class Command(BaseCommand):
    help = "Re-encrypt the KYC document numbers and vendor secrets with the newest KYC_FIELD_KEYS key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args: Any, batch: int, **options: Any) -> None:
        counts = rotate_keys(actor=SystemActor("manage.py kyc_rotate_keys"), batch=batch)
        for table, n in counts.items():
            self.stdout.write(f"{table}: {n} values re-encrypted")
