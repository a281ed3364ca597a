from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import SystemActor
from apps.core.demo import demo_access


class Command(BaseCommand):
    help = "Print credentials for the demo administrator and a demo API key (new password and key each run)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_TOOLS:
            raise CommandError("DEMO_TOOLS is off (production): no demo credentials here.")
        access = demo_access(actor=SystemActor("manage.py demo_access"))
        bar = "=" * 78
        self.stdout.write(bar)
        self.stdout.write("Demo administrator (role Administrator) at http://127.0.0.1:8000/admin/")
        self.stdout.write(f"  username:    {access.username}")
        self.stdout.write(f"  password:    {access.password}")
        self.stdout.write(f"  TOTP secret: {access.totp_secret}")
        self.stdout.write(f"  otpauth URI: {access.otpauth_uri}")
        self.stdout.write(
            f"  (add the secret to an authenticator app, or: .venv/bin/python manage.py totp_code {access.username})"
        )
        self.stdout.write("Demo platform API key (all scopes):")
        self.stdout.write(f"  curl -H 'Authorization: Api-Key {access.api_key}' http://127.0.0.1:8000/api/v1/client/")
        self.stdout.write("API docs: http://127.0.0.1:8000/api/docs/")
        self.stdout.write(bar)
