from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.approvals.services import approvals_expire
from apps.audit.services import SystemActor


class Command(BaseCommand):
    help = "Expire the requests nobody decided within APPROVAL_PENDING_EXPIRY_HOURS (idempotent; also hourly)."

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = approvals_expire(actor=SystemActor("manage.py approvals_expire"))
        self.stdout.write(f"approvals: {outcome['expired']} expired, {outcome['skipped']} left pending")
