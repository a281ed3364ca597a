from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.api.scopes import ALL_SCOPES
from apps.api.services import api_client_create
from apps.audit.services import SystemActor
from apps.core.errors import ApplicationError
from apps.players.models import Brand


class Command(BaseCommand):
    help = "Create a platform API client and print its key once (it is stored only as a hash)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--scopes", nargs="+", default=[], metavar="SCOPE", help=f"from: {' '.join(ALL_SCOPES)}")
        parser.add_argument("--all-scopes", action="store_true")
        parser.add_argument("--allowed-networks", nargs="*", default=[], metavar="CIDR")
        parser.add_argument("--throttle-rate", default="", help="e.g. 6000/min (default: API_DEFAULT_THROTTLE_RATE)")
        parser.add_argument("--key-only", action="store_true", help="print only the key (for scripts)")
        parser.add_argument(
            "--brands",
            nargs="+",
            default=None,
            metavar="CODE",
            help="brand codes it serves (default: the default brand)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scopes = list(ALL_SCOPES) if options["all_scopes"] else options["scopes"]
        brands = None
        if options["brands"] is not None:
            brands = list(Brand.objects.filter(code__in=options["brands"]))
            missing = sorted(set(options["brands"]) - {b.code for b in brands})
            if missing:
                raise CommandError(f"Unknown brand(s): {', '.join(missing)}.")
        try:
            client, key = api_client_create(
                actor=SystemActor("manage.py create_api_client"),
                name=options["name"],
                scopes=scopes,
                allowed_networks=options["allowed_networks"],
                throttle_rate=options["throttle_rate"],
                brands=brands,
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {exc.fields or ''}".strip()) from exc
        if options["key_only"]:
            self.stdout.write(key)
            return
        self.stdout.write(f"client: {client.name} (prefix {client.prefix})")
        self.stdout.write(f"scopes: {' '.join(client.scopes) or '(none)'}")
        self.stdout.write(f"brands: {' '.join(b.code for b in client.brands.all())}")
        self.stdout.write(f"key: {key}")
        self.stdout.write("The key is shown only now. Send it as: Authorization: Api-Key <key>")
