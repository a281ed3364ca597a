from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.audit.services import SystemActor
from apps.core.demo import seed_demo


class Command(BaseCommand):
    help = "Seed demo data (idempotent: running it again adds nothing that is already there)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = seed_demo(actor=SystemActor("manage.py seed_demo"))
        for line in created:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("demo data in place"))
