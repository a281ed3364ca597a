"""The test suite's database roles (see docs/DEPLOYMENT.md, "Database roles").

The suite logs in as the owner role, which creates, migrates and flushes its test database, and then acts
as the application's role (``SET ROLE``) for every test, so the whole suite runs with exactly the privileges
the application has in production: a table a migration forgot to grant, or code that needs DDL, fails here.
Tests that must do what only the owner can (tampering with the audit trail behind its triggers, the ledger's
partition switch) say so with :func:`as_owner`. The application itself never gets this choice: it logs in as
its own role, which is no member of the owner's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import sql


def _quoted(role: str) -> str:
    return sql.Identifier(role).as_string()


def act_as_app_role(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created``: each new (or pooled) connection of the suite acts as the application's role."""
    if connection.alias != DEFAULT_DB_ALIAS or not settings.DATABASE_APP_ROLE:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {_quoted(settings.DATABASE_APP_ROLE)}")


@contextmanager
def as_owner(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Act as the owner (the session's login role) until the block ends, then as before. Inside a transaction
    (a test's) the switch is local to a savepoint; outside one (a transactional test, CREATE INDEX CONCURRENTLY)
    it is the session's, and the connection acts as the application again when it is next handed out."""
    conn = connections[using]
    with conn.cursor() as cursor:
        cursor.execute("SELECT current_user")
        acting = cursor.fetchone()[0]
    if not conn.in_atomic_block:
        with conn.cursor() as cursor:
            cursor.execute("SET ROLE NONE")
        try:
            yield
        finally:
            with conn.cursor() as cursor:
                cursor.execute(f"SET ROLE {_quoted(acting)}")
        return
    with transaction.atomic(using=using), conn.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE NONE")
        yield
        cursor.execute(f"SET LOCAL ROLE {_quoted(acting)}")  # an error instead rolls the savepoint (and role) back


def flush_as_owner(original: Callable[..., None]) -> Callable[..., None]:
    """pytest-django empties the tables after a transactional test with one TRUNCATE, which only the owner may
    run (and only the owner gets past the audit trail's TRUNCATE trigger): this is the only flush path that
    does, and it exists only in the test suite."""

    def execute_sql_flush(self: Any, sql_list: list[str]) -> None:
        original(self, ["SET LOCAL ROLE NONE", *sql_list])  # local to the flush's own transaction

    return execute_sql_flush
