"""The ``reports`` database alias and its router (DESIGN §3).

With ``REPORTS_DATABASE_URL`` set, settings define a ``reports`` alias on that server (a streaming read replica of
the primary): a report run reads there, so a quarter's aggregate never competes with the bet path for the
primary's cores and cache. Without it, reports read the primary through the ordinary ``default`` connection (a
second pool to the same server would only cost connections).

Inside ``reading_reports()`` (the runner wraps a report's ``tables`` in it) every ORM read is routed to the alias;
writes always go to the primary (a replica refuses them), and nothing is ever migrated on the replica (it is a
copy of the primary, schema included)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings

REPORTS_ALIAS = "reports"

_reading: ContextVar[bool] = ContextVar("reports_reading", default=False)


def reports_alias() -> str:
    """Where report queries go: the replica's alias when one is configured, else the primary's."""
    return REPORTS_ALIAS if REPORTS_ALIAS in settings.DATABASES else "default"


@contextmanager
def reading_reports() -> Iterator[str]:
    token = _reading.set(True)
    try:
        yield reports_alias()
    finally:
        _reading.reset(token)


class ReportsRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if _reading.get() and REPORTS_ALIAS in settings.DATABASES:
            return REPORTS_ALIAS
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        instance = hints.get("instance")
        read_from_replica = instance is not None and getattr(instance._state, "db", None) == REPORTS_ALIAS
        if read_from_replica or _reading.get():
            return "default"  # a row read from the replica is saved on the primary
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        if db == REPORTS_ALIAS:
            return False
        return None
