"""Work queues: what waits for a staff member, counted for the admin's start page.

Each app registers its own queues at start-up (from its ``AppConfig.ready``) with :func:`register_queue`: a key,
a label in the operator's words, the permission(s) needed to act on the work, a ``count(user)`` and the URL of
the filtered list where the work is done. The start page asks :func:`work_for` for the signed-in member: only
the queues whose permissions they hold are counted and shown (checked here, on the server, per request), so a
queue never appears to someone who could not act on it.

``count(user)`` returns a queryset (preferred: counted here, cheaply), an ``int`` it counted itself, or None
(nothing to show for this member). A queryset is counted with a capped ``COUNT`` over at most
``EXACT_UP_TO + 1`` rows; above that, the planner's row estimate for the same query (``EXPLAIN``) is shown as
"~12k": the start page never scans a big table. :func:`work_for` counts all of a member's querysets in one
statement (``count_many``), one round trip however many queues. A queue's filter should be served by an index
(the registering app owns it); docs/ARCHITECTURE.md ("Work queues") lists the ones in use.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.urls import reverse

# Exact up to this many rows; above it, an estimate.
EXACT_UP_TO = 1000

CountFn = Callable[[Any], "QuerySet[Any] | int | None"]


@dataclass(frozen=True)
class WorkQueue:
    key: str  # "<app_label>.<what>", unique
    label: str  # in the operator's words: "Withdrawals to approve"
    count: CountFn
    # a URL name with an optional query ("admin:wallet_withdrawal_changelist?status=pending"), or a callable
    # of the user returning one (for a query that depends on the time or the member)
    url: str | Callable[[Any], str]
    permissions: tuple[str, ...]  # all needed to act on the work ("app_label.codename")
    section: str = ""  # the heading it is shown under: "Payments", "Safer gambling"...
    help: str = ""  # one line under the label
    order: int = 100

    def visible_to(self, user: Any) -> bool:
        return bool(user is not None and user.is_active and user.has_perms(self.permissions))

    def link(self, user: Any) -> str:
        target = self.url(user) if callable(self.url) else self.url
        name, _, query = target.partition("?")
        path = reverse(name) if ":" in name else name
        return f"{path}?{query}" if query else path


@dataclass(frozen=True)
class Count:
    value: int
    estimated: bool = False

    @property
    def display(self) -> str:
        if not self.estimated:
            return f"{self.value:,}"
        return f"~{compact(self.value)}"


@dataclass(frozen=True)
class WorkItem:
    queue: WorkQueue
    count: Count
    url: str

    @property
    def label(self) -> str:
        return self.queue.label

    @property
    def waiting(self) -> bool:
        return self.count.value > 0


_QUEUES: dict[str, WorkQueue] = {}


def register_queue(
    key: str,
    label: str,
    *,
    count: CountFn,
    url: str | Callable[[Any], str],
    permission: str | tuple[str, ...],
    section: str = "",
    help: str = "",
    order: int = 100,
) -> WorkQueue:
    """Called from the owning app's ``ready()``. The same key registered again with other settings is a bug."""
    permissions = (permission,) if isinstance(permission, str) else tuple(permission)
    if not permissions or any("." not in p for p in permissions):
        raise ValueError(f"work queue {key!r}: permissions are 'app_label.codename', got {permissions!r}")
    queue = WorkQueue(
        key=key,
        label=label,
        count=count,
        url=url,
        permissions=permissions,
        section=section,
        help=help,
        order=order,
    )
    known = _QUEUES.get(key)
    if known is not None and known != queue:
        raise ValueError(f"work queue {key!r} is already registered differently")
    _QUEUES[key] = queue
    return queue


def unregister_queue(key: str) -> None:
    """For tests that register a queue of their own."""
    _QUEUES.pop(key, None)


def queues() -> list[WorkQueue]:
    return sorted(_QUEUES.values(), key=lambda q: (q.order, q.key))


def queues_for(user: Any) -> list[WorkQueue]:
    """The queues this member may act on (nothing is counted)."""
    return [q for q in queues() if q.visible_to(user)]


def work_for(user: Any) -> list[WorkItem]:
    """The queues this member may act on, counted. A queue whose count is None is left out. The querysets are
    counted together (``count_many``: one statement per database, not one per queue)."""
    values = [(queue, queue.count(user)) for queue in queues_for(user)]
    querysets = [value for _queue, value in values if isinstance(value, QuerySet)]
    counted = iter(count_many(querysets))
    items = []
    for queue, value in values:
        if value is None:
            continue
        count = next(counted) if isinstance(value, QuerySet) else Count(int(value))
        items.append(WorkItem(queue=queue, count=count, url=queue.link(user)))
    return items


def count_rows(qs: QuerySet[Any], *, exact_up_to: int = EXACT_UP_TO) -> Count:
    """Exact up to ``exact_up_to`` rows (a COUNT over a LIMITed subquery: bounded work); above, the planner's
    estimate of the query's rows, never less than what was seen."""
    qs = qs.order_by()
    seen = qs[: exact_up_to + 1].count()
    if seen <= exact_up_to:
        return Count(seen)
    return Count(max(planner_rows(qs), seen), estimated=True)


def count_many(querysets: list[QuerySet[Any]], *, exact_up_to: int = EXACT_UP_TO) -> list[Count]:
    """``count_rows`` of each queryset, in order, the capped counts of one database in ONE statement (a start page
    counts a dozen queues: one round trip and no per-count ORM aggregation); an estimate where a count reaches the
    cap, as ``count_rows`` gives it."""
    seen: dict[int, int] = {}
    by_db: dict[str, list[int]] = {}
    for i, qs in enumerate(querysets):
        by_db.setdefault(qs.db, []).append(i)
    for alias, indexes in by_db.items():
        parts: list[str] = []
        params: list[Any] = []
        counted: list[int] = []
        for n, i in enumerate(indexes):
            try:
                sql, part_params = querysets[i].order_by()[: exact_up_to + 1].query.sql_with_params()
            except EmptyResultSet:  # .none(), or a filter that can match nothing: 0 without asking
                seen[i] = 0
                continue
            counted.append(i)
            parts.append(f"(SELECT count(*) FROM ({sql}) AS q{n})")  # noqa: S608 (SQL Django compiled; values are params)
            params.extend(part_params)
        if not parts:
            continue
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            row = cursor.fetchone()
        seen.update({i: int(value) for i, value in zip(counted, row, strict=True)})
    counts = []
    for i, qs in enumerate(querysets):
        found = seen[i]
        counts.append(Count(found) if found <= exact_up_to else Count(max(planner_rows(qs), found), estimated=True))
    return counts


def planner_rows(qs: QuerySet[Any]) -> int:
    """The planner's row estimate for ``qs`` (EXPLAIN, not run): as good as the table's statistics."""
    sql, params = qs.order_by().query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        row = cursor.fetchone()
    plan = row[0] if row else None
    if isinstance(plan, str | bytes):
        plan = json.loads(plan)
    try:
        return int(plan[0]["Plan"]["Plan Rows"])  # type: ignore[index]
    except (TypeError, KeyError, IndexError, ValueError):
        return 0


def compact(n: int) -> str:
    """12 -> "12", 1234 -> "1.2k", 12345 -> "12k", 1234567 -> "1.2M"."""
    for size, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if n >= size:
            value = n / size
            text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
            return f"{text.removesuffix('.0')}{suffix}"
    return str(n)


# --- core's own queue ------------------------------------------------------------------------------------------
def dead_deliveries(user: Any) -> QuerySet[Any]:
    """Webhooks the outbox gave up on (served by core_delivery_status_idx (status, -id))."""
    from apps.core.models import DeliveryStatus, OutboxDelivery

    return OutboxDelivery.objects.filter(status=DeliveryStatus.DEAD)


def register() -> None:
    """Core's queue (every app's ``<app>/workqueues.py`` has a ``register()`` its ``ready()`` calls)."""
    register_queue(
        "core.dead_webhooks",
        "Webhooks that gave up",
        count=dead_deliveries,
        url="admin:core_outboxdelivery_changelist?status__exact=dead",
        permission="core.change_outboxdelivery",  # redelivering is the action
        section="System health",
        help="Events the platform never received after every retry: redeliver once the receiver is back.",
        order=51,
    )
