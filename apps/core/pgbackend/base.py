"""Django's PostgreSQL backend; a pooled connection that failed in a way that outlives the error is discarded.

Django's pool integration (django/db/backends/postgresql/base.py) gives a connection back to psycopg_pool on
close, and the pool keeps it unless libpq says it is broken. After an error, Django's end-of-request check runs
``SELECT 1``: a connection whose session is read-only passes it, goes back to the pool, and fails every write of
every later request even once the server takes writes again (the session keeps the
``default_transaction_read_only`` it started with, or it is a standby's). A server shutting down
(admin_shutdown, 57P01) usually leaves the connection broken anyway, but not always before the pool looks.
So an error with one of these SQLSTATEs marks the connection, and closing it closes the psycopg connection
first: the pool counts it lost and opens a fresh one. The happy path pays nothing: the mark is made in the
error wrapper Django already runs on every failing statement.

Stale connections after a server restart: with ``POOL_CHECK`` (``DATABASE_POOL_CHECK``) each connection taken
from the pool is checked with psycopg_pool's own ``ConnectionPool.check_connection`` (one empty round trip)
before Django uses it. Not as the pool's ``check`` (Django's ``CONN_HEALTH_CHECKS``): when that check fails the
pool waits 1 s, then 2 s, 4 s... before it checks the next connection, so a pool full of dead connections after a
restart made a request wait its whole timeout and fail (PoolTimeout; tests/core/test_degradation.py shows it).
Here a dead connection is given back (the pool counts it lost and opens another), the pool is drained (its
siblings died with it) and the next one is taken at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from django.db.utils import DatabaseErrorWrapper
from django.utils.functional import cached_property
from psycopg_pool import ConnectionPool

# read-only transaction; admin/crash shutdown, cannot connect now; connection failures (class 08)
DISCARD_SQLSTATES = frozenset({"25006", "57P01", "57P02", "57P03"})


def must_discard(exc: BaseException | None) -> bool:
    sqlstate = getattr(exc, "sqlstate", None)
    return isinstance(sqlstate, str) and (sqlstate in DISCARD_SQLSTATES or sqlstate.startswith("08"))


class _ErrorWrapper(DatabaseErrorWrapper):
    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        if exc_value is not None and must_discard(exc_value):
            self.wrapper.discard_connection = True  # type: ignore[attr-defined]
        return super().__exit__(exc_type, exc_value, traceback)  # type: ignore[no-any-return]


_drain_lock = threading.Lock()
_drained_at: dict[str, float] = {}
DRAIN_INTERVAL_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    discard_connection = False

    @cached_property
    def wrap_database_errors(self) -> DatabaseErrorWrapper:
        return _ErrorWrapper(self)

    def close_if_unusable_or_obsolete(self) -> None:
        if self.discard_connection and self.connection is not None:
            self.close()
            return
        super().close_if_unusable_or_obsolete()

    def _close(self) -> None:
        if self.discard_connection and self.connection is not None:
            self.discard_connection = False
            with contextlib.suppress(Exception):
                self.connection.close()  # the pool sees a closed connection and replaces it
            if self.pool:
                self._drain_pool()
            else:
                self.connection = None
                return
        return super()._close()  # type: ignore[misc,no-any-return]

    def _drain_pool(self) -> None:
        """Replace every connection of this process's pool that predates the failure, at most once a second: the
        others were opened in the same read-only (or dying) server and fail the same way, even after the
        server takes writes again."""
        with _drain_lock:
            now = time.monotonic()
            if now - _drained_at.get(self.alias, -1e9) < DRAIN_INTERVAL_SECONDS:
                return
            _drained_at[self.alias] = now
        with contextlib.suppress(Exception):
            self.pool.drain()

    def connect(self) -> None:
        self.discard_connection = False
        super().connect()

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        if not self.pool or not self.settings_dict.get("POOL_CHECK"):
            return super().get_new_connection(conn_params)
        for _attempt in range(self.pool.max_size):
            connection = super().get_new_connection(conn_params)  # pool.getconn(), and Django's isolation level
            try:
                ConnectionPool.check_connection(connection)
            except psycopg.Error:
                self.pool.putconn(connection)  # broken: counted lost, replaced by the pool's workers
                self._drain_pool()
                continue
            return connection
        return super().get_new_connection(conn_params)  # the pool's timeout decides
