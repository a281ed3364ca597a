from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit.services import SystemActor
from apps.core.errors import ApplicationError
from apps.staff import otp
from apps.staff.roles import ROLES
from apps.staff.services import staff_create


class Command(BaseCommand):
    help = "Create a staff member with a role and a confirmed TOTP device; print the otpauth URI (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", action="append", required=True, choices=ROLES, help="repeatable")
        parser.add_argument("--email", help="default: <username>@staff.invalid")
        parser.add_argument("--password", help="default: a random one, printed")
        parser.add_argument("--no-device", action="store_true", help="let the member enrol at first login")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        try:
            user, password, device = staff_create(
                actor=SystemActor("manage.py create_staff"),
                username=username,
                email=options["email"] or f"{username}@staff.invalid",
                roles=options["role"],
                password=options["password"],
                with_device=not options["no_device"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {exc.fields or ''}".strip()) from exc
        self.stdout.write(f"username: {user.username}")
        self.stdout.write(f"roles: {', '.join(options['role'])}")
        if not options["password"]:
            self.stdout.write(f"password: {password}")
        if device is not None:
            self.stdout.write(f"totp_secret: {otp.base32_secret(device)}")
            self.stdout.write(f"otpauth_uri: {otp.provisioning_uri(device)}")
