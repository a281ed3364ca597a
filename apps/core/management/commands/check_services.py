from __future__ import annotations

import sys
from typing import Any

import psycopg
import redis
from django.conf import settings
from django.core.management.base import BaseCommand

from apps.core.pg import server_address, server_connect


class Command(BaseCommand):
    help = "Check that PostgreSQL and Redis are reachable; say which is not and how to point at another."
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        problems = []
        where = server_address()
        try:
            server_connect().close()
        except psycopg.Error as exc:
            first_line = str(exc).strip().splitlines()[0]
            if "FATAL:" in first_line:  # the server answered: its roles or the database are not made yet
                reason = first_line.split("FATAL:")[-1].strip()
                self.stdout.write(f"PostgreSQL answers at {where} ({reason}): manage.py ensure_database sets it up")
            else:
                problems.append(
                    f"PostgreSQL is not reachable at {where} ({first_line}).\n"
                    "  Start it, or point at one: DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/pitboss"
                )
        for variable, url in (("REDIS_URL", settings.REDIS_URL), ("CELERY_BROKER_URL", settings.CELERY_BROKER_URL)):
            if not url.startswith(("redis://", "rediss://", "unix://")):
                continue
            try:
                redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
            except redis.RedisError as exc:
                problems.append(
                    f"Redis is not reachable at {url} ({exc}).\n"
                    f"  Start it, or point at one: {variable}=redis://HOST:6379/0"
                )
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            sys.exit(1)
        self.stdout.write(f"PostgreSQL ({where}) and Redis reachable")
