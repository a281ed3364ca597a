"""manage.py reports_rollups_build [--start D] [--end D]: (re)build the operator day rollups from the ledger.

For an install whose ledger predates the rollups' consumer, or after a change of the jurisdictions' clocks: a month
per transaction (drains wait for each month, postings never), from the ledger's first day to today unless told.
Idempotent: run it again and the rows come out the same."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.reports import rollups
from apps.reports.management.commands.reports_rollups_check import local_day


class Command(BaseCommand):
    help = "Rebuild the operator day rollups from the ledger, a month per transaction."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", default=None, help="First local day (YYYY-MM-DD; default: the ledger's first)")
        parser.add_argument("--end", default=None, help="Last local day, inclusive (default: tomorrow)")

    def handle(self, *args: Any, **options: Any) -> None:
        start = local_day(options["start"]) if options["start"] else rollups.first_day()
        end = local_day(options["end"]) if options["end"] else timezone.now().date() + timedelta(days=1)
        if start is None:
            self.stdout.write("The ledger is empty: nothing to build.")
            return
        if start > end:
            raise CommandError("--start is after --end.", returncode=2)
        total = 0
        for first, last in rollups.months(start, end):
            written = rollups.rebuild(first, last)
            total += written
            self.stdout.write(f"{first} to {last}: {written} row(s)")
        self.stdout.write(self.style.SUCCESS(f"Operator day rollups rebuilt from {start} to {end}: {total} row(s)."))
