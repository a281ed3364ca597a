from __future__ import annotations

from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql

from apps.core.pg import server_connect


class Command(BaseCommand):
    help = "Create the configured PostgreSQL database if it does not exist (connects to the 'postgres' db)."
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        name = settings.DATABASES["default"]["NAME"]
        try:
            with server_connect(autocommit=True) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
                if exists:
                    self.stdout.write(f"database {name!r} exists")
                    return
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise CommandError(f"cannot create database {name!r}: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"database {name!r} created"))
