from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.wallet import partitioning


class Command(BaseCommand):
    help = (
        "Show how the ledger's entries table is partitioned; --switch partitions it by month without copying a "
        "row (see apps/wallet/partitioning.py); --extend creates the month partitions ahead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--switch", action="store_true", help="partition the entries table by month now")
        parser.add_argument("--extend", action="store_true", help="create month partitions ahead")
        parser.add_argument("--months-ahead", type=int, default=partitioning.MONTHS_AHEAD)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["switch"]:
            partitioning.switch(months_ahead=options["months_ahead"])
            self.stdout.write(self.style.SUCCESS("The entries table is partitioned by month."))
        if options["extend"]:
            created = partitioning.extend(months_ahead=options["months_ahead"])
            self.stdout.write(f"Created: {', '.join(created) or 'nothing'}")
        if not partitioning.is_partitioned():
            self.stdout.write(f"{partitioning.TABLE} is one plain table (not partitioned).")
            return
        for partition in partitioning.partitions():
            self.stdout.write(f"{partition.name}: {partition.bounds}")
