"""Reads of segments: the one query a segment's criteria compile to, its count (exact, or the planner's estimate
when a cheap EXPLAIN says it is big), a sample of its players, and the ids of its members."""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.crm import criteria as registry
from apps.crm.models import Segment

EXACT_BELOW = 200_000  # rows the planner expects: below this an exact COUNT is cheap, above it the estimate is shown
SAMPLE_SIZE = 20
SAMPLE_COLUMNS = ("id", "external_id", "first_name", "last_name", "country", "currency", "vip_tier", "created_at")


# A segment's query aggregates the rollups in one hash: with the default work_mem (4 MB) it spills to disk and runs
# twice as slow; a parallel plan rebuilds that hash in every worker (measured: bench/crm_segments.py, docs/CRM.md);
# JIT compiles for longer than these queries run. For the segment's queries only, inside their transaction.
QUERY_SETTINGS = (
    "SET LOCAL work_mem = '64MB'",
    "SET LOCAL max_parallel_workers_per_gather = 0",
    "SET LOCAL jit = off",
)


@contextmanager
def segment_session() -> Iterator[None]:
    """A transaction (or savepoint) whose queries run with ``QUERY_SETTINGS``; they end with it."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            for statement in QUERY_SETTINGS:
                cursor.execute(statement)
        yield


@dataclass(frozen=True)
class Preview:
    count: int
    exact: bool  # False: the planner's estimate (EXPLAIN), not a COUNT
    sample: list[dict[str, Any]]

    @property
    def label(self) -> str:
        return "exact" if self.exact else "estimate"


def segment_query(criteria: dict[str, Any], *, currency: str, now: datetime | None = None) -> registry.Fragment:
    """``SELECT p.id FROM players_player p WHERE ...``: one statement, every value a parameter."""
    return registry.compile_query(criteria, registry.Context(currency=currency, now=now or timezone.now()))


def planner_rows(query: registry.Fragment) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {query.sql}", query.params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def count(query: registry.Fragment) -> tuple[int, bool]:
    """(members, exact): an exact COUNT when the planner expects fewer than EXACT_BELOW rows, else its estimate."""
    estimate = planner_rows(query)
    if estimate >= EXACT_BELOW:
        return estimate, False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({query.sql}) AS segment", query.params)  # noqa: S608
        return int(cursor.fetchone()[0]), True


def sample(query: registry.Fragment, size: int = SAMPLE_SIZE) -> list[dict[str, Any]]:
    columns = ", ".join(f"p.{c}" for c in SAMPLE_COLUMNS)
    sql = query.sql.replace("SELECT p.id FROM", f"SELECT {columns} FROM", 1)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY p.id DESC LIMIT %s", (*query.params, size))
        return [dict(zip(SAMPLE_COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def _count_and_sample(query: registry.Fragment, size: int) -> tuple[int, list[dict[str, Any]]]:
    """The exact count and the newest ``size`` members from ONE evaluation of the segment (a materialised CTE
    read twice): a small segment's preview costs what its COUNT costs."""
    columns = ", ".join(f"p.{c}" for c in SAMPLE_COLUMNS)
    sql = (
        f"WITH s AS MATERIALIZED ({query.sql}) "  # noqa: S608 (the compiled query: no input in its text)
        f"SELECT n.total, {columns} FROM (SELECT count(*) AS total FROM s) n "
        "LEFT JOIN (SELECT id FROM s ORDER BY id DESC LIMIT %s) t ON TRUE "
        "LEFT JOIN players_player p ON p.id = t.id ORDER BY p.id DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*query.params, size))
        rows = cursor.fetchall()
    found = [dict(zip(SAMPLE_COLUMNS, row[1:], strict=True)) for row in rows if row[1] is not None]
    return int(rows[0][0]), found


def preview(criteria: dict[str, Any], *, currency: str) -> Preview:
    """A cheap EXPLAIN first: below ``EXACT_BELOW`` planned rows the exact count (with the sample, one query),
    else the planner's estimate and a sample."""
    query = segment_query(criteria, currency=currency)
    with segment_session():
        estimate = planner_rows(query)
        if estimate >= EXACT_BELOW:
            return Preview(count=estimate, exact=False, sample=sample(query))
        found, rows = _count_and_sample(query, SAMPLE_SIZE)
        return Preview(count=found, exact=True, sample=rows)


def member_ids(segment: Segment, *, batch: int = 2000) -> Iterator[list[int]]:
    """A static segment's snapshotted members, a dynamic one's current players: ids in ascending batches.

    A static segment is read by keyset pagination over its members (each batch one indexed query). A dynamic
    segment's query runs ONCE (a money criterion aggregates the rollups: per batch it would cost that again) and
    its ids are kept as 8-byte integers (8 MB for a million players), then handed out in batches."""
    if segment.kind == "static":
        sql = (
            "SELECT m.player_id FROM crm_segmentmember m WHERE m.segment_id = %s AND m.player_id > %s "
            "ORDER BY m.player_id LIMIT %s"
        )
        after = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(sql, (segment.pk, after, batch))
                ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                return
            yield ids
            after = ids[-1]
    query = segment_query(segment.criteria, currency=segment.currency)
    found = array("q")
    with segment_session(), connection.cursor() as cursor:
        cursor.execute(f"{query.sql} ORDER BY p.id", query.params)
        while rows := cursor.fetchmany(10_000):
            found.extend(row[0] for row in rows)
    for start in range(0, len(found), batch):
        yield found[start : start + batch].tolist()


def dynamic_segment_ids() -> list[int]:
    return list(Segment.objects.filter(kind="dynamic").order_by("pk").values_list("pk", flat=True))
