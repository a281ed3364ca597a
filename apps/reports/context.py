"""What a report's ``tables`` sees of its run: a cursor on the ``reports`` database alias, progress, cancellation
and a log. The runner (``apps.reports.runs``) opens one read-only REPEATABLE READ transaction on that alias for
the whole run, so every table of a run reads the same snapshot; tests build a context directly
(``RunContext()``) and call ``tables`` inside their own transaction."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.db import connections
from django.utils import timezone

from apps.reports.router import reading_alias


class Cancelled(Exception):
    """Raised by ``RunContext.check_cancelled`` when somebody cancelled the run: the runner records it."""


class RunContext:
    def __init__(
        self,
        *,
        using: str | None = None,
        user: Any | None = None,
        today: date | None = None,
        on_progress: Callable[[int, int, int], None] | None = None,
        is_cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self.using = using or reading_alias()
        self.user = user  # who asked (a staff user), or None for a schedule or the command line
        self.today = today or timezone.localdate()
        self._on_progress = on_progress
        self._is_cancelled = is_cancelled
        self.lines: list[str] = []
        self.row_count = 0
        self._done, self._total = 0, 0
        self._cursor_names = itertools.count(1)

    # --- reading

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A Django cursor on the reports alias (inside the run's snapshot transaction)."""
        with connections[self.using].cursor() as cursor:
            yield cursor

    def stream(self, sql: str, params: Sequence[Any] = (), *, size: int = 5000) -> Iterator[tuple[Any, ...]]:
        """The rows of one query through a server-side cursor, ``size`` at a time (memory stays flat however many
        rows the report writes). Must be consumed inside the run's transaction (the runner's, or a test's)."""
        connection = connections[self.using]
        connection.ensure_connection()
        raw = connection.connection
        assert raw is not None
        with raw.cursor(name=f"report_{id(self)}_{next(self._cursor_names)}") as cursor:
            cursor.itersize = size
            cursor.execute(sql, params)
            while True:
                batch = cursor.fetchmany(size)
                if not batch:
                    return
                yield from batch
                self.check_cancelled()

    def all(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a small query (a summary, a grouped aggregate), as a list."""
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        assert row is not None, "a query that aggregates always returns one row"
        return tuple(row)

    # --- progress and control

    def progress(self, done: int, total: int) -> None:
        """Progress as ``done`` of ``total`` steps (tables, days, ...); the run's bar shows the fraction."""
        self._done, self._total = done, total
        if self._on_progress is not None:
            self._on_progress(done, total, self.row_count)
        self.check_cancelled()

    def rows_written(self, rows: int) -> None:
        """The writers' count of rows so far (the run's row count and heartbeat while one long table streams)."""
        self.row_count = rows
        if self._on_progress is not None:
            self._on_progress(self._done, self._total, rows)
        self.check_cancelled()

    def check_cancelled(self) -> None:
        if self._is_cancelled is not None and self._is_cancelled():
            raise Cancelled

    def log(self, line: str) -> None:
        self.lines.append(line)

    def may(self, permission: str) -> bool:
        """Whether the person who asked holds ``permission`` (False for a schedule or the command line: figures
        behind a permission go only in runs asked by someone who holds it)."""
        return self.user is not None and bool(self.user.has_perm(permission))
