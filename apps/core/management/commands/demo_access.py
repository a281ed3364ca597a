from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import SystemActor
from apps.core.demo import demo_access


class Command(BaseCommand):
    help = (
        "Print fresh demo credentials: the demo administrator and a demo API key (a new password and key each "
        "run). Each app registers its own (apps.core.demo.register_access)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_TOOLS:
            raise CommandError("DEMO_TOOLS is off (production): no demo credentials here.")
        credentials = demo_access(actor=SystemActor("manage.py demo_access"))
        bar = "=" * 78
        self.stdout.write(bar)
        for line in credentials.lines:
            self.stdout.write(line)
        self.stdout.write(bar)
