"""Connecting to the PostgreSQL *server* (not our database), for set-up commands that run before it exists."""

from __future__ import annotations

from typing import Any

import psycopg
from django.conf import settings
from psycopg.conninfo import make_conninfo


def server_connect(**kwargs: Any) -> psycopg.Connection[Any]:
    """A connection to the maintenance database ``postgres`` on the server of ``DATABASE_URL``."""
    db = settings.DATABASES["default"]
    conninfo = make_conninfo(
        dbname="postgres",
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        connect_timeout=3,
    )
    return psycopg.connect(conninfo, **kwargs)


def server_address() -> str:
    db = settings.DATABASES["default"]
    return f"{db.get('HOST') or 'local socket'}:{db.get('PORT') or 5432}"
