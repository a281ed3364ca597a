"""manage.py reports_rollups_check [--start D] [--end D] [--rebuild]: the operator day rollups against the ledger.

Prints every difference (a value, or a row missing on either side) and the transactions still in flight (queued for
the consumer, left out on both sides); exits 1 when any difference is found, 2 on a usage error. With ``--rebuild``
the days found different are rebuilt from the ledger and checked again: it exits 1 only if differences remain."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.reports import rollups


def local_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD).", returncode=2) from exc


class Command(BaseCommand):
    help = "Compare the operator day rollups with the ledger, to the cent; exit 1 on any difference."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", default=None, help="First local day to check (YYYY-MM-DD; default: all)")
        parser.add_argument("--end", default=None, help="Last local day to check, inclusive")
        parser.add_argument("--rebuild", action="store_true", help="Rebuild the days found different, check again")
        parser.add_argument("--limit", type=int, default=1000, help="Report at most this many differences")

    def handle(self, *args: Any, **options: Any) -> None:
        start = local_day(options["start"]) if options["start"] else None
        end = local_day(options["end"]) if options["end"] else None
        if start and end and start > end:
            raise CommandError("--start is after --end.", returncode=2)
        result = rollups.check_with_in_flight(start, end, limit=options["limit"])
        for mismatch in result.mismatches:
            self.stdout.write(str(mismatch))
        if result.mismatches and options["rebuild"]:
            days = sorted({m.day for m in result.mismatches})
            for day in days:
                rollups.rebuild(day, day)
            self.stdout.write(f"rebuilt {len(days)} day(s) from the ledger: {', '.join(map(str, days))}")
            result = rollups.check_with_in_flight(start, end, limit=options["limit"])
            for mismatch in result.mismatches:
                self.stdout.write(f"still: {mismatch}")
        self.stdout.write(f"{result.in_flight} transaction(s) in flight (queued for the rollups, not compared)")
        if result.mismatches:
            raise CommandError(f"{len(result.mismatches)} difference(s) between the rollups and the ledger.")
        self.stdout.write(self.style.SUCCESS("The rollups equal the ledger."))
