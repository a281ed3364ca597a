"""Reads of segments: the one query a segment's criteria compile to, its count (exact, or the planner's estimate
when a cheap EXPLAIN says it is big), a sample of its players, and the ids of its members."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from apps.crm import criteria as registry
from apps.crm.models import Segment

EXACT_BELOW = 200_000  # rows the planner expects: below this an exact COUNT is cheap, above it the estimate is shown
SAMPLE_SIZE = 20
SAMPLE_COLUMNS = ("id", "external_id", "first_name", "last_name", "country", "currency", "vip_tier", "created_at")


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
    where = registry.compile_where(criteria, registry.Context(currency=currency, now=now or timezone.now()))
    return registry.Fragment(f"SELECT p.id FROM players_player p WHERE {where.sql}", where.params)  # noqa: S608


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


def preview(criteria: dict[str, Any], *, currency: str) -> Preview:
    query = segment_query(criteria, currency=currency)
    found, exact = count(query)
    return Preview(count=found, exact=exact, sample=sample(query))


def member_ids(segment: Segment, *, after: int = 0, batch: int = 2000) -> Iterator[list[int]]:
    """A static segment's snapshotted members, a dynamic one's current players: ids in ascending batches (keyset
    pagination: each batch one indexed query, however big the segment)."""
    if segment.kind == "static":
        sql = (
            "SELECT m.player_id FROM crm_segmentmember m WHERE m.segment_id = %s AND m.player_id > %s "
            "ORDER BY m.player_id LIMIT %s"
        )
        base: tuple[Any, ...] = (segment.pk,)
    else:
        query = segment_query(segment.criteria, currency=segment.currency)
        sql = f"{query.sql} AND p.id > %s ORDER BY p.id LIMIT %s"
        base = query.params
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, (*base, after, batch))
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return
        yield ids
        after = ids[-1]
