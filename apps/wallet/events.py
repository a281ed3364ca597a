"""Posting events: every posting tells whoever registered what it moved.

Every posting (``posting.write``: deposits, bets, wins, rollbacks, withdrawals and their cancels and payouts,
adjustments, bonus awards, conversions and forfeits) produces one ``PostingEvent``. Two kinds of consumer, each
registered at start-up by the app that owns it (in its ``AppConfig.ready``; the wallet imports none of them):

* **Observers** run inside the posting's transaction, under the player's account lock. They must be O(1): one
  UPDATE, no scan (bonus wagering progress is one). What they write commits or rolls back with the posting; what
  they raise refuses the posting. A statement observer (``register_statement_observer``) hands the posting one
  SQL statement that runs inside the posting's own statement: no round trip of its own, the way to write one.
  A Python observer (``register_observer``) is called right after the write and pays for its own queries.
* **Durable consumers** (``register_consumer``) run after commit. The posting's own statement inserts one row per
  interested consumer into ``wallet_posting_queue``; ``drain`` processes them on the ``compliance`` Celery queue
  and deletes each row in the transaction that handled it (at least once; exactly once for what the handler
  writes to the database in that transaction). A handler gets the events of one player at a time, in order.

Why the queue rows are the cursor. A high-water mark ("processed up to id N") would skip a row committed out of
id order: a posting that took id 10 and commits after id 11 was processed is never seen. Here nothing is skipped,
because a consumer's position is the set of its rows still in the table, and a late row is still there. Order
per player holds because every posting locks the player's accounts before its insert and keeps the lock until
commit: a player's later posting takes its id only after the earlier one committed, so per player id order is
commit order, and a worker that sees a player's row sees every earlier row of that player too.

Claiming. A worker claims a player by locking the player's *oldest* row for the consumer (``FOR UPDATE SKIP
LOCKED``, among rows with no older row of the same player and consumer); while it is locked, no other worker can
claim that player (its head is locked, its other rows are not heads). The worker then takes the player's next
rows, hands them to the handler, deletes them and commits. A worker killed mid-batch rolls back: the rows and
their order are intact for the next one. A handler that raises rolls back that player only (a savepoint), the
attempt is counted on the head row, and that player's later events wait behind it (order is kept); the error
is logged and shown by ``manage.py posting_events``.

Batch consumers (``register_batch_consumer``) are durable consumers that need no order, only sums (the operator
rollups of the reports): ``drain_batches`` claims up to thousands of their rows at once across players (``FOR
UPDATE SKIP LOCKED`` in id order, so drains in parallel take disjoint rows), hands the handler the claimed rows'
transaction ids and parts, deletes the rows and commits, all in one transaction: a drain killed midway rolls back
whole, a handler that raises rolls the batch back and the attempt is counted on its rows. Each names the task
(and queue) a posting nudges for it; ``drain(None)`` leaves them to those tasks.

Nothing is lost when Redis or every worker is down: the rows wait in PostgreSQL; the beat sweep
(``apps.wallet.tasks.posting_events_drain``, every 5 seconds, each run draining for up to 4) catches up, and a
posting nudges a drain at most once a second per process (``POSTING_EVENTS_NUDGE``) for low latency.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PostingEvent:
    """What one posting moved. ``cash_part`` and ``bonus_part``: how much of the player's cash and bonus balances
    it moved (unsigned; a bet's stake split, a win's credit split; a withdrawal's cash). Empty strings where a
    posting type has no such field (a deposit has no game)."""

    transaction_id: int
    type: str
    player_id: int
    currency: str
    amount: Decimal
    cash_part: Decimal
    bonus_part: Decimal
    game_id: str
    game_category: str
    provider: str
    round_id: str
    payment_method: str
    instrument_fingerprint: str
    api_client: str
    reverses_id: int | None
    created_at: datetime


Observer = Callable[[PostingEvent], None]
Handler = Callable[[list[PostingEvent]], None]


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: Handler
    types: frozenset[str] | None  # None: every type


@dataclass(frozen=True)
class Claimed:
    """What a batch consumer's drain claimed: parallel lists, one item per queued row (the parts as queued:
    unsigned, as ``PostingEvent``'s)."""

    queue_ids: list[int]
    transaction_ids: list[int]
    cash_parts: list[Decimal]
    bonus_parts: list[Decimal]


BatchHandler = Callable[[Claimed], None]


@dataclass(frozen=True)
class BatchConsumer:
    name: str
    handler: BatchHandler
    types: frozenset[str] | None
    task: str  # the Celery task that drains it (nudged after a posting commits), by name
    queue: str


_observers: list[tuple[Observer, frozenset[str] | None]] = []
_consumers: dict[str, Consumer] = {}
_batch_consumers: dict[str, BatchConsumer] = {}
_consumers_by_type: dict[str, list[str]] = {}


def _types(types: Iterable[str] | None) -> frozenset[str] | None:
    return frozenset(types) if types is not None else None


def register_observer(observer: Observer, *, types: Iterable[str] | None = None) -> Observer:
    """Run ``observer(event)`` in the posting's transaction for postings of ``types`` (all if None). O(1) only."""
    entry = (observer, _types(types))
    if entry not in _observers:
        _observers.append(entry)
    return observer


def unregister_observer(observer: Callable[[PostingEvent], object]) -> None:
    _observers[:] = [entry for entry in _observers if entry[0] is not observer]
    _statement_observers[:] = [entry for entry in _statement_observers if entry[0] is not observer]


StatementPart = tuple[str, list[Any]]
StatementObserver = Callable[[PostingEvent], "StatementPart | None"]
_statement_observers: list[tuple[StatementObserver, frozenset[str] | None]] = []


def register_statement_observer(build: StatementObserver, *, types: Iterable[str] | None = None) -> StatementObserver:
    """An observer that costs no round trip: ``build(event)`` returns one data-modifying SQL statement and its
    parameters (or None), which the posting runs as a CTE of its own statement. The statement must join ``t``
    (``... FROM t WHERE ...``; ``t.id`` is the new transaction's id, ``event.transaction_id`` is 0 here), so a
    posting that inserts nothing (a duplicate reference) changes nothing. One UPDATE, no scan: bonus wagering."""
    entry = (build, _types(types))
    if entry not in _statement_observers:
        _statement_observers.append(entry)
    return build


def statement_parts(event: PostingEvent) -> list[StatementPart]:
    parts = []
    for build, types in _statement_observers:
        if types is None or event.type in types:
            part = build(event)
            if part is not None:
                parts.append(part)
    return parts


def has_statement_observers() -> bool:
    return bool(_statement_observers)


def register_consumer(name: str, handler: Handler, *, types: Iterable[str] | None = None) -> Consumer:
    """A durable consumer: ``handler(events)`` after commit, one player's events at a time, in order.

    ``name`` is stored with every queued row: renaming a consumer orphans its backlog (``posting_events`` shows
    rows of consumers nobody registered)."""
    if not name or len(name) > 64:
        raise ValueError("a consumer's name is 1 to 64 characters")
    if name in _batch_consumers:
        raise ValueError(f"{name} is already a batch consumer")
    consumer = Consumer(name=name, handler=handler, types=_types(types))
    _consumers[name] = consumer
    _consumers_by_type.clear()
    return consumer


def register_batch_consumer(
    name: str, handler: BatchHandler, *, task: str, queue: str, types: Iterable[str] | None = None
) -> BatchConsumer:
    """A durable consumer drained in batches across players (``drain_batches``): ``handler(claimed)`` in the
    transaction that deletes the claimed rows, for postings of ``types`` (all if None). For consumers that only
    sum: no order between rows is promised. ``task`` (on ``queue``) is sent after a posting commits, as
    ``DRAIN_TASK`` is for the others."""
    if not name or len(name) > 64:
        raise ValueError("a consumer's name is 1 to 64 characters")
    if name in _consumers:
        raise ValueError(f"{name} is already a per-player consumer")
    consumer = BatchConsumer(name=name, handler=handler, types=_types(types), task=task, queue=queue)
    _batch_consumers[name] = consumer
    _consumers_by_type.clear()
    return consumer


def unregister_consumer(name: str) -> None:
    _consumers.pop(name, None)
    _batch_consumers.pop(name, None)
    _consumers_by_type.clear()


def consumers() -> dict[str, Consumer]:
    return dict(_consumers)


def consumers_for(type: str) -> list[str]:
    """The durable consumers a posting of ``type`` is queued for (sorted, cached until a registration)."""
    found = _consumers_by_type.get(type)
    if found is None:
        every: list[Consumer | BatchConsumer] = [*_consumers.values(), *_batch_consumers.values()]
        found = _consumers_by_type[type] = sorted(c.name for c in every if c.types is None or type in c.types)
    return found


def observe(event: PostingEvent) -> None:
    """Called by ``posting.write`` after the ledger write, in its transaction."""
    for observer, types in _observers:
        if types is None or event.type in types:
            observer(event)


# --- after commit: nudging a drain --------------------------------------------------------------------------

_nudge_lock = threading.Lock()
_last_nudge = 0.0
DRAIN_TASK = "apps.wallet.tasks.posting_events_drain"


def nudge_after_commit() -> None:
    """Ask for a drain once the posting commits, at most once a second per process. Best effort: the beat sweep
    drains anyway, so a broker that cannot be reached costs nothing but latency."""
    global _last_nudge
    if not settings.POSTING_EVENTS_NUDGE:
        return
    now = time.monotonic()
    with _nudge_lock:
        if now - _last_nudge < 1.0:
            return
        _last_nudge = now
    transaction.on_commit(_send_nudge)


def _send_nudge() -> None:
    """Fail fast (apps.core.outbox.send_fail_fast): with the broker down, kombu's default reconnecting held every
    posting's request ~6 s (the Redis fault test saw /readyz wait that long for a web worker); the beat's drain
    catches up on whatever a failed nudge left."""
    from apps.core.outbox import send_fail_fast

    if _consumers and send_fail_fast(DRAIN_TASK, queue="compliance", expires=60) is None:
        log.warning("posting_events_nudge_failed")
    for task, queue in sorted({(c.task, c.queue) for c in _batch_consumers.values()}):
        if send_fail_fast(task, queue=queue, expires=60) is None:
            log.warning("posting_events_nudge_failed", extra={"task": task})


# --- draining ---------------------------------------------------------------------------------------------

# The head of each player's rows for a consumer, oldest first; a locked head is a player another worker holds.
_CLAIM_SQL = """
    SELECT q.id, q.player_id FROM wallet_posting_queue q
    WHERE q.consumer = %s AND q.player_id <> ALL(%s::bigint[])
      AND NOT EXISTS (
          SELECT 1 FROM wallet_posting_queue o
          WHERE o.consumer = q.consumer AND o.player_id = q.player_id AND o.id < q.id
      )
    ORDER BY q.id LIMIT %s
    FOR UPDATE SKIP LOCKED
"""
# The claimed players' next rows, at most ``per_player`` each, in order. Their heads are locked by this worker,
# so no one else can take any of these rows; FOR UPDATE OF q only makes that explicit.
_EVENTS_SQL = """
    SELECT q.id, t.id, t.type, t.player_id, t.currency, t.amount, q.cash_part, q.bonus_part, t.game_id,
           t.game_category, t.provider, t.round_id, t.payment_method, t.instrument_fingerprint, t.api_client,
           t.reverses_id, t.created_at
    FROM (
        SELECT id, transaction_id, cash_part, bonus_part,
               row_number() OVER (PARTITION BY player_id ORDER BY id) AS n
        FROM wallet_posting_queue WHERE consumer = %s AND player_id = ANY(%s::bigint[])
    ) w
    JOIN wallet_posting_queue q ON q.id = w.id
    JOIN wallet_transaction t ON t.id = w.transaction_id
    WHERE w.n <= %s
    ORDER BY t.player_id, q.id
    FOR UPDATE OF q
"""


@dataclass
class DrainResult:
    processed: int = 0
    players: int = 0
    failed_players: int = 0


def _event(row: tuple[Any, ...]) -> PostingEvent:
    return PostingEvent(
        transaction_id=row[1],
        type=row[2],
        player_id=row[3],
        currency=row[4],
        amount=Decimal(row[5]),
        cash_part=Decimal(row[6]),
        bonus_part=Decimal(row[7]),
        game_id=row[8],
        game_category=row[9],
        provider=row[10],
        round_id=row[11],
        payment_method=row[12],
        instrument_fingerprint=row[13],
        api_client=row[14],
        reverses_id=row[15],
        created_at=row[16],
    )


def _drain_batch(consumer: Consumer, players: int, per_player: int, failed: set[int]) -> DrainResult:
    """One transaction: claim up to ``players`` players (not those in ``failed``, which failed earlier in this
    drain), hand each its next ``per_player`` events (each player in a savepoint), delete what was handled.
    Four statements for the whole batch, plus two per player for the savepoint."""
    result = DrainResult()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [consumer.name, sorted(failed), players])
        heads = {player_id: head_id for head_id, player_id in cursor.fetchall()}
        if not heads:
            return result
        cursor.execute(_EVENTS_SQL, [consumer.name, list(heads), per_player])
        by_player: dict[int, list[tuple[Any, ...]]] = {}
        for row in cursor.fetchall():
            by_player.setdefault(row[3], []).append(row)
        done: list[int] = []
        for player_id, rows in by_player.items():
            try:
                with transaction.atomic():
                    consumer.handler([_event(row) for row in rows])
            except Exception as exc:  # one player's failure must not stop the others
                result.failed_players += 1
                failed.add(player_id)
                log.exception("posting_consumer_failed", extra={"consumer": consumer.name, "player": player_id})
                cursor.execute(
                    "UPDATE wallet_posting_queue SET attempts = least(attempts + 1, 32767), last_error = %s "
                    "WHERE id = %s",
                    [f"{type(exc).__name__}: {exc}"[:500], heads[player_id]],
                )
                continue
            done += [row[0] for row in rows]
            result.processed += len(rows)
            result.players += 1
        if done:
            cursor.execute("DELETE FROM wallet_posting_queue WHERE id = ANY(%s::bigint[])", [done])
    return result


def drain(
    consumer: str | None = None,
    *,
    players: int = 200,
    per_player: int = 500,
    budget_seconds: float | None = None,
    max_batches: int | None = None,
) -> DrainResult:
    """Process queued events of ``consumer`` (every registered per-player one if None: batch consumers have their
    own tasks) until none is left that this worker can claim, ``budget_seconds`` have passed, or ``max_batches``
    batches ran. Safe to run in any number of workers at once. Inside a caller's transaction (tests) it works on
    that transaction's rows. A batch consumer named here is drained by ``drain_batches``."""
    if consumer is not None and consumer in _batch_consumers:
        return drain_batches(consumer, budget_seconds=budget_seconds, max_batches=max_batches)
    total = DrainResult()
    names = [consumer] if consumer is not None else sorted(_consumers)
    deadline = time.monotonic() + budget_seconds if budget_seconds is not None else None
    for name in names:
        registered = _consumers.get(name)
        if registered is None:
            continue
        batches, failed = 0, set[int]()
        while True:
            done = _drain_batch(registered, players, per_player, failed)
            total.processed += done.processed
            total.players += done.players
            total.failed_players += done.failed_players
            batches += 1
            if done.players == 0:
                break  # nothing left this worker could claim (or only failing players)
            if max_batches is not None and batches >= max_batches:
                break
            if deadline is not None and time.monotonic() >= deadline:
                return total
    return total


# A batch: the consumer's oldest rows nobody else holds, in id order (the (consumer, id) index), locked.
_CLAIM_BATCH_SQL = """
    SELECT id, transaction_id, cash_part, bonus_part FROM wallet_posting_queue
    WHERE consumer = %s ORDER BY id LIMIT %s
    FOR UPDATE SKIP LOCKED
"""


def _drain_one_batch(consumer: BatchConsumer, batch: int) -> tuple[int, bool]:
    """One transaction: claim up to ``batch`` rows, hand them to the handler, delete them. Returns (rows handled,
    failed). A handler that raises leaves the rows (its savepoint rolls back) with the attempt counted on them."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM_BATCH_SQL, [consumer.name, batch])
        rows = cursor.fetchall()
        if not rows:
            return 0, False
        ids = [row[0] for row in rows]
        claimed = Claimed(
            queue_ids=ids,
            transaction_ids=[row[1] for row in rows],
            cash_parts=[row[2] for row in rows],
            bonus_parts=[row[3] for row in rows],
        )
        try:
            with transaction.atomic():
                consumer.handler(claimed)
        except Exception as exc:  # the batch stays queued; the error is shown by ``posting_events``
            log.exception("posting_batch_consumer_failed", extra={"consumer": consumer.name, "rows": len(ids)})
            cursor.execute(
                "UPDATE wallet_posting_queue SET attempts = least(attempts + 1, 32767), last_error = %s "
                "WHERE id = ANY(%s::bigint[])",
                [f"{type(exc).__name__}: {exc}"[:500], ids],
            )
            return 0, True
        cursor.execute("DELETE FROM wallet_posting_queue WHERE id = ANY(%s::bigint[])", [ids])
    return len(ids), False


def drain_batches(
    consumer: str, *, batch: int = 5000, budget_seconds: float | None = None, max_batches: int | None = None
) -> DrainResult:
    """Process a batch consumer's queued rows, ``batch`` per transaction, until it has caught up (a batch came back
    short: what was claimable is done, what committed meanwhile waits for the next run, so a trickle of postings is
    summed in one batch per nudge rather than a transaction every few rows), its handler raised, ``budget_seconds``
    have passed or ``max_batches`` ran (``players`` counts batches). Any number may run at once."""
    registered = _batch_consumers.get(consumer)
    total = DrainResult()
    if registered is None:
        return total
    deadline = time.monotonic() + budget_seconds if budget_seconds is not None else None
    while True:
        done, failed = _drain_one_batch(registered, batch)
        total.processed += done
        total.players += 1 if done else 0
        if failed:
            total.failed_players += 1
            return total
        if done < batch or (max_batches is not None and total.players >= max_batches):
            return total
        if deadline is not None and time.monotonic() >= deadline:
            return total


@dataclass(frozen=True)
class Backlog:
    consumer: str
    registered: bool
    rows: int
    players: int
    oldest_seconds: float
    failing: int  # rows whose handler raised at least once


def backlog() -> list[Backlog]:
    """Per consumer: what waits, how old the oldest is, how many are failing (the metrics and the command)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT consumer, count(*), count(DISTINCT player_id), "
            "coalesce(extract(epoch FROM now() - min(queued_at)), 0), count(*) FILTER (WHERE attempts > 0) "
            "FROM wallet_posting_queue GROUP BY consumer ORDER BY consumer"
        )
        rows = cursor.fetchall()
    seen = {row[0]: row for row in rows}
    known = set(_consumers) | set(_batch_consumers)
    names = sorted(set(seen) | known)
    return [
        Backlog(
            consumer=name,
            registered=name in known,
            rows=int(seen[name][1]) if name in seen else 0,
            players=int(seen[name][2]) if name in seen else 0,
            oldest_seconds=float(seen[name][3]) if name in seen else 0.0,
            failing=int(seen[name][4]) if name in seen else 0,
        )
        for name in names
    ]


def has_observers() -> bool:
    return bool(_observers)
