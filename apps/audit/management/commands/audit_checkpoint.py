from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import audit_checkpoint_write


class Command(BaseCommand):
    help = (
        "Verify the audit chain, then write a signed checkpoint of its head (count, last id, hash, time) into "
        "AUDIT_CHECKPOINT_DIR; refuses (exit 1) when the chain is broken. The nightly beat job does the same."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report, path = audit_checkpoint_write()
        if path is None:
            raise CommandError(f"Audit chain BROKEN, no checkpoint written: {report.problem}")
        head = f"#{report.head_id}" if report.head_id is not None else "nothing (empty trail)"
        self.stdout.write(self.style.SUCCESS(f"Checkpoint written: {report.checked} events up to {head} -> {path}"))
