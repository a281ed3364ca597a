from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.core.outbox import deliver_due


class Command(BaseCommand):
    help = "Deliver the outbox's due webhooks now (what the beat sweep does every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"outbox: {deliver_due()} delivery attempt(s)")
