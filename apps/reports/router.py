"""The ``reports`` database alias and its router (DESIGN §3, docs/DEPLOYMENT.md "Reports on a read replica").

With ``REPORTS_DATABASE_URL`` set, settings define a ``reports`` alias on that server (a streaming read replica of
the primary): a report run reads there, so a quarter's aggregate never competes with the bet path for the
primary's cores and cache. Without it, reports read the primary through the ordinary ``default`` connection (a
second pool to the same server would only cost connections).

Inside ``reading_reports()`` (the runner wraps a report's ``tables`` in it) every ORM read is routed to the alias;
writes always go to the primary (a replica refuses them), and nothing is ever migrated on the replica (it is a
copy of the primary, schema included). A run's own row (``ReportRun``) is read on the primary even then: the
runner reads it and saves it back during the run, and a copy read from a replica that lags would undo a cancel
asked for meanwhile.

A replica lags behind the primary (usually by milliseconds, by hours when its replay is stuck). A regulator's
figures must not miss the last postings of the period because of that, so ``reading_reports()`` first waits until
the replica has replayed everything committed on the primary before the run started: the run then reads exactly
what it would have read on the primary at its start. A replica that does not catch up within
``REPORTS_REPLICA_WAIT_SECONDS``, or whose server cannot be reached, fails the run with an error that says so
(both are ``OperationalError``s: the runner's retry policy for a database that went away applies to them)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

REPORTS_ALIAS = "reports"
PRIMARY_ALIAS = DEFAULT_DB_ALIAS
# Read on the primary even inside reading_reports(): rows the runner reads and saves back while a report runs.
PRIMARY_ONLY_MODELS = frozenset({"reports.ReportRun"})
REPLICA_WAIT_SECONDS = 60.0  # REPORTS_REPLICA_WAIT_SECONDS when settings do not say
POLL_SECONDS = 0.05

_reading: ContextVar[bool] = ContextVar("reports_reading", default=False)


class ReportsDatabaseUnavailable(OperationalError):
    """The reports alias's server could not be reached: down, refusing connections, or silent past the alias's
    ``connect_timeout``. Reports never fall back to the primary on their own (that is what the replica is there to
    spare it from): the run fails and is retried."""


class ReportsReplicaBehind(OperationalError):
    """The replica had not replayed the primary's writes of the run's start within the wait: its figures would
    miss recent postings, so the run does not read it."""


def reports_alias() -> str:
    """Where report queries go: the replica's alias when one is configured, else the primary's."""
    return REPORTS_ALIAS if REPORTS_ALIAS in settings.DATABASES else PRIMARY_ALIAS


def _server(alias: str) -> str:
    """The alias's server as an operator would recognise it from REPORTS_DATABASE_URL (never the password)."""
    config = settings.DATABASES[alias]
    return f"alias {alias!r}, {config.get('HOST') or 'localhost'}:{config.get('PORT') or 5432}/{config.get('NAME')}"


def await_replica(alias: str = REPORTS_ALIAS, *, timeout: float | None = None) -> float:
    """Wait until the server behind ``alias`` has replayed every transaction committed on the primary before this
    call; returns the seconds waited (0 for a server that is not a standby: a promoted replica, or an alias that
    points at the primary itself). The primary's WAL write position is the mark: every commit made before the call
    ends at or before it (the insert position could sit past a page header the standby never replays)."""
    wait = (
        float(getattr(settings, "REPORTS_REPLICA_WAIT_SECONDS", REPLICA_WAIT_SECONDS)) if timeout is None else timeout
    )
    with connections[PRIMARY_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        target = cursor.fetchone()[0]
    started = time.monotonic()
    while True:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute(
                    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn,"
                    " pg_last_wal_replay_lsn()::text",
                    [target],
                )
                in_recovery, replayed, position = cursor.fetchone()
        except OperationalError as exc:
            raise ReportsDatabaseUnavailable(f"The reports database ({_server(alias)}) is unavailable: {exc}") from exc
        waited = time.monotonic() - started
        if not in_recovery or replayed:
            return waited
        if waited >= wait:
            raise ReportsReplicaBehind(
                f"The reports replica ({_server(alias)}) had replayed the primary's WAL up to {position} after"
                f" {wait:g} s, short of {target} (the primary's position when the run started): its figures would"
                " miss recent postings. See docs/DEPLOYMENT.md, 'Reports on a read replica'."
            )
        time.sleep(POLL_SECONDS)


def reading_alias() -> str:
    """The alias report SQL reads now: the reports alias inside ``reading_reports()`` (which waited for the
    replica), else the primary (a parameter check at request time, a shell, a benchmark)."""
    return reports_alias() if _reading.get() else PRIMARY_ALIAS


@contextmanager
def reading_reports(*, wait: float | None = None) -> Iterator[str]:
    """Route the block's ORM reads to the reports alias, once the replica (if one is configured) has caught up
    with the primary (``await_replica``; ``wait`` overrides REPORTS_REPLICA_WAIT_SECONDS). Enter it before the
    run's transaction on the alias takes its snapshot, or the snapshot is older than the wait made sure of."""
    alias = reports_alias()
    if alias == REPORTS_ALIAS:
        await_replica(alias, timeout=wait)
    token = _reading.set(True)
    try:
        yield alias
    finally:
        _reading.reset(token)


class ReportsRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if not _reading.get() or REPORTS_ALIAS not in settings.DATABASES:
            return None
        if model._meta.label in PRIMARY_ONLY_MODELS:
            return PRIMARY_ALIAS
        return REPORTS_ALIAS

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        instance = hints.get("instance")
        read_from_replica = instance is not None and getattr(instance._state, "db", None) == REPORTS_ALIAS
        if read_from_replica or _reading.get():
            return PRIMARY_ALIAS  # a row read from the replica is saved on the primary
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        if db == REPORTS_ALIAS:
            return False
        return None
