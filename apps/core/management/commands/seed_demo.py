from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit.services import SystemActor
from apps.core.demo import seed_demo, seeders


class Command(BaseCommand):
    help = (
        "Seed demo data (idempotent: running it again adds nothing that is already there). Each app registers "
        "its own seeder (apps.core.demo.register_seeder); a seeder with a count adds its --<option> N."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        for seeder in seeders():
            if seeder.count is not None:
                parser.add_argument(
                    f"--{seeder.count.option}", type=int, default=seeder.count.default, help=seeder.count.help
                )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_TOOLS:
            raise CommandError("DEMO_TOOLS is off (production): no demo data here.")
        counts: dict[str, int] = {}
        for seeder in seeders():
            if seeder.count is not None:
                counts[seeder.count.option] = options[seeder.count.option.replace("-", "_")]
                if counts[seeder.count.option] < 0:
                    raise CommandError(f"--{seeder.count.option} must be 0 or more")
        for line in seed_demo(actor=SystemActor("manage.py seed_demo"), counts=counts):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("demo data in place"))
