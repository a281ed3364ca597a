from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.wallet import events


class Command(BaseCommand):
    help = "Show what waits for each durable posting-event consumer; with --drain, process it now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--drain", action="store_true", help="Process the queue until it is empty.")
        parser.add_argument("--consumer", default=None, help="Only this consumer.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["drain"]:
            result = events.drain(options["consumer"])
            self.stdout.write(
                f"processed {result.processed} event(s) of {result.players} player(s); "
                f"{result.failed_players} player(s) failed"
            )
        for row in events.backlog():
            if options["consumer"] and row.consumer != options["consumer"]:
                continue
            state = "registered" if row.registered else "NOT REGISTERED (its rows wait for nobody)"
            self.stdout.write(
                f"{row.consumer}: {row.rows} waiting for {row.players} player(s), oldest {row.oldest_seconds:.1f} s, "
                f"{row.failing} failing; {state}"
            )
