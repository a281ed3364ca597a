from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.audit.services import SystemActor
from apps.core.services import schedule_install


class Command(BaseCommand):
    help = "Install the beat schedule declared in backoffice/schedule.py (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="also undo staff changes to timing and enabled")

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = schedule_install(actor=SystemActor("manage.py install_schedule"), reset=options["reset"])
        self.stdout.write(
            f"schedule: {len(outcome['created'])} created, {len(outcome['updated'])} updated, "
            f"{len(outcome['unchanged'])} unchanged"
        )
