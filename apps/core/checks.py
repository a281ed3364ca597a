"""``manage.py check --database default``: the application's database role has no more rights than it should.

Warnings, not errors: ``migrate`` runs these checks too, and it is what fixes the grants."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.db import DatabaseError, connections

from apps.core.dbroles import app_role_problems


@register(Tags.database)
def check_app_role(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not databases or "default" not in databases:
        return []
    if settings.DATABASE_APP_ROLE == settings.DATABASE_OWNER_ROLE:
        return [
            Warning(
                "DATABASE_URL and MIGRATION_DATABASE_URL use one role: the application can alter its tables and "
                "disable their triggers.",
                hint="Give the application its own role (manage.py ensure_database; docs/DEPLOYMENT.md).",
                id="pitboss.W101",
            )
        ]
    try:
        with connections["default"].cursor() as cursor:
            problems = app_role_problems(cursor)
    except DatabaseError as exc:
        return [Warning(f"could not read the application's role from the catalogue: {exc}", id="pitboss.W102")]
    return [
        Warning(
            f"The application's database role {settings.DATABASE_APP_ROLE!r}: {problem}.",
            hint="manage.py migrate re-grants table privileges; attributes and ownership: manage.py ensure_database "
            "or the DBA (docs/DEPLOYMENT.md, Database roles).",
            id="pitboss.W103",
        )
        for problem in problems
    ]
