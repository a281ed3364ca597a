from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.audit import checkpoints
from apps.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Verify the audit trail: its keyed hash chain, and every signed checkpoint in AUDIT_CHECKPOINT_DIR "
        "(a truncated trail or removed newest events), in chain order; then the events not sealed yet, whose "
        "count and age it reports; exit non-zero naming the first problem."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify()
        if not report.ok:
            if report.first_broken_id is None:  # nothing wrong with a row: rows are missing
                raise CommandError(f"Audit chain BROKEN: {report.problem} ({report.checked} events verified).")
            raise CommandError(
                f"Audit chain BROKEN at event #{report.first_broken_id}: {report.problem} "
                f"({report.checked} events before it verified)."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.checked} events verified, "
                f"{report.checkpoints_matched} checkpoints matched."
            )
        )
        lag = report.lag
        if lag.unsealed:
            self.stdout.write(
                f"{lag.unsealed} events not sealed yet (content verified), the oldest written {lag.seconds():.1f} s "
                "ago: the sealer chains them within seconds (manage.py audit_seal does it now)."
            )
        else:
            self.stdout.write("No event waits for the sealer.")
        if not report.checkpoints_matched:
            self.stdout.write(
                self.style.WARNING(
                    f"No checkpoint in {checkpoints.directory()}: a truncated trail or removed newest events could "
                    "not be told from an intact one. Write one with manage.py audit_checkpoint (the nightly job does)."
                )
            )
