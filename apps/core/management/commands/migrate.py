"""``manage.py migrate`` as the owner role: Django's command, with the ``default`` alias pointed at
``MIGRATION_DATABASE_URL`` for the run (data migrations write through it) and the application's privileges
granted afterwards (``apps.core.dbroles``, on ``post_migrate``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS

from apps.core.dbroles import ddl_alias, use_owner_for_default


class Command(migrate.Command):
    help = f"{migrate.Command.help} Runs as the owner role (MIGRATION_DATABASE_URL), then grants the app's role."

    def handle(self, *args: Any, **options: Any) -> Any:
        try:
            owner_alias = ddl_alias()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        as_owner = options["database"] == DEFAULT_DB_ALIAS and owner_alias != DEFAULT_DB_ALIAS
        if as_owner and use_owner_for_default() and options["verbosity"] >= 2:
            self.stdout.write("Migrating as the owner role (MIGRATION_DATABASE_URL).")
        return super().handle(*args, **options)
