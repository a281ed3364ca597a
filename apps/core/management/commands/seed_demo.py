from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit.services import SystemActor
from apps.core.demo import seed_demo


class Command(BaseCommand):
    help = "Seed demo data (idempotent: running it again adds nothing that is already there)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--players", type=int, default=3000, help="top demo players up to this many (COPY)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_TOOLS:
            raise CommandError("DEMO_TOOLS is off (production): no demo data here.")
        if options["players"] < 0:
            raise CommandError("--players must be 0 or more")
        actor = SystemActor("manage.py seed_demo")
        for line in seed_demo(actor=actor):
            self.stdout.write(line)
        from apps.players.demo import seed_players, vacuum_players

        added = seed_players(options["players"], actor=actor)
        if added:
            vacuum_players()
        self.stdout.write(f"players: {added} added (demo players now at least {options['players']})")
        self.stdout.write(self.style.SUCCESS("demo data in place"))
