from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.wallet import rollups


class Command(BaseCommand):
    help = (
        "Rebuild the per-player day rollups from the ledger, a batch of players per transaction under their "
        "account locks (postings wait, nothing is lost). Resumable: --after N starts after player id N."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--after", type=int, default=0, help="Start after this player id (resume).")
        parser.add_argument("--batch", type=int, default=2000, help="Players per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = 0
        last = options["after"]
        for last, written in rollups.build(after_id=options["after"], batch=options["batch"]):
            rows += written
            self.stdout.write(f"rebuilt up to player {last} ({rows} day row(s) so far); resume with --after {last}")
        self.stdout.write(self.style.SUCCESS(f"Rollups rebuilt: {rows} day row(s), last player {last}."))
