"""Operator-level day rollups (``reports_operator_day``): what reports of long periods read instead of the ledger.

One row per local day, jurisdiction, brand, currency, transaction type, game category and provider, holding:

* ``amount``: the sum of the transactions' headline amounts (always positive: a rollback's amount is the bet's),
* ``cash_amount`` and ``bonus_amount``: the SIGNED moves of the players' cash and bonus balances (a credit is
  positive: a bet's are negative, a win's positive, a bonus conversion's cash positive and bonus negative, an
  adjustment's cash either). The sum of ``cash_amount + bonus_amount`` over every type of a period is the change
  of the players' funds on those accounts; pending withdrawals are ``amount`` of withdrawal - cancel - paid.
* ``count``: the number of transactions.

Where a transaction is counted: the day is its creation time on the clock of the player's jurisdiction of residence
(the region's own jurisdiction if it has rule packs, else the country's; its time zone once its first pack is in
force at that instant, UTC before: ``apps.wallet.rollups.zone_for`` in SQL), the jurisdiction is that code (the
residence country where no jurisdiction is configured), the brand is the player's. Both are read when the row is
counted: a player's change of residence moves none of what was counted before it (``rebuild`` of those days does,
and until then ``check`` reports those days).

Why a consumer and not the posting's statement. Every bet of a jurisdiction, currency and game lands on the same
few rows: an upsert there inside the posting would serialise every bet on that row's lock (ECOSYSTEM, "A hot row
serialises"). Instead each posting's statement queues one row for the durable batch consumer ``CONSUMER``
(``apps.wallet.events.register_batch_consumer``), and ``drain`` claims thousands of queued rows across players at
once, aggregates them in one statement joined to the ledger and the players, upserts the grouped deltas
(``amount = amount + excluded.amount``) and deletes the claimed rows, in one transaction: a drain killed midway
rolls back whole (nothing counted twice, nothing lost), and drains in parallel claim disjoint rows (SKIP LOCKED)
and upsert in key order (no deadlock).

``rebuild`` recomputes days from the ledger; ``check`` (``manage.py reports_rollups_check``) compares every value
with a direct aggregation of the ledger. Both leave out the transactions whose queue row still waits (in flight:
the consumer will count them), and both see the ledger, the queue and the rollups in one snapshot. A rebuild holds
the exclusive form of ``LOCK_KEY``; every drain holds its shared form while it writes, so no drain commits between a
rebuild's delete and its insert. Installs with a ledger from before this consumer existed run ``manage.py
reports_rollups_build`` once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from apps.wallet import events

CONSUMER = "reports.operator_day"
DRAIN_TASK = "apps.reports.tasks.operator_day_drain"
# pg_advisory locks: rebuild exclusive, drains shared. Any fixed bigint no other lock of the project uses.
LOCK_KEY = 0x5245_504F_5254_5331  # "REPORTS1"

KEY = ("day", "jurisdiction", "brand_id", "currency", "type", "game_category", "provider")
VALUES = ("amount", "cash_amount", "bonus_amount", "count")

# How a transaction type moves the player's balances, for the queue's unsigned parts (the ledger's entries are
# signed already). A type not named moves nothing there; an adjustment's sign is its cash entry's.
CASH_SIGN: dict[str, int] = {
    "deposit": 1,
    "withdrawal": -1,
    "withdrawal_cancel": 1,
    "bet": -1,
    "rollback": 1,
    "win": 1,
    "win_rollback": -1,
    "bonus_convert": 1,
}
BONUS_SIGN: dict[str, int] = {
    "bet": -1,
    "rollback": 1,
    "win": 1,
    "win_rollback": -1,
    "bonus_award": 1,
    "bonus_convert": -1,
    "bonus_forfeit": -1,
}

# Jurisdictions with rule packs, with the start of their first pack (before it, their postings are on UTC).
_JURISDICTIONS = """jur AS (
    SELECT j.code, coalesce(nullif(j.time_zone, ''), 'UTC') AS time_zone, min(rp.effective_from) AS since
    FROM geo_jurisdiction j JOIN geo_rulepack rp ON rp.jurisdiction_id = j.id
    GROUP BY j.code, j.time_zone
)"""
# With ``t`` a transaction and ``p`` its player: where the transaction is counted.
_PLACE_JOINS = """
    JOIN players_player p ON p.id = t.player_id
    LEFT JOIN jur jr ON jr.code = p.region AND p.region <> ''
    LEFT JOIN jur jc ON jc.code = p.country AND jr.code IS NULL
"""
_DAY = """(t.created_at AT TIME ZONE CASE WHEN t.created_at >= coalesce(jr.since, jc.since)
    THEN coalesce(jr.time_zone, jc.time_zone) ELSE 'UTC' END)::date"""
_JURISDICTION = "coalesce(jr.code, jc.code, p.country)"


def _sign_case(signs: dict[str, int], otherwise: str = "0") -> str:
    whens = " ".join(f"WHEN '{kind}' THEN {sign}" for kind, sign in sorted(signs.items()))
    return f"CASE t.type {whens} ELSE {otherwise} END"


# An adjustment's direction is only in its entries: the player's cash entry (same created_at: partition pruning).
_ADJUSTMENT_SIGN = """(SELECT sign(sum(e.amount)) FROM wallet_entry e JOIN wallet_account a ON a.id = e.account_id
    WHERE e.transaction_id = t.id AND e.created_at = t.created_at AND a.kind = 'cash')"""
_CASH_SIGN_SQL = _sign_case({**CASH_SIGN}).replace(
    " ELSE 0 END", f" WHEN 'adjustment' THEN {_ADJUSTMENT_SIGN} ELSE 0 END"
)
_BONUS_SIGN_SQL = _sign_case(BONUS_SIGN)

_COLUMNS = ", ".join(KEY + VALUES)
_ADD = ", ".join(f"{c} = r.{c} + EXCLUDED.{c}" for c in VALUES)

# The drain's one statement: the claimed rows' transactions, placed and grouped, added to their rows in key order.
_UPSERT_CLAIMED = f"""
    WITH {_JURISDICTIONS}
    INSERT INTO reports_operator_day AS r ({_COLUMNS})
    SELECT {_DAY}, {_JURISDICTION}, p.brand_id, t.currency, t.type, t.game_category, t.provider,
           sum(t.amount), sum(c.cash_part * {_CASH_SIGN_SQL}), sum(c.bonus_part * {_BONUS_SIGN_SQL}), count(*)
    FROM unnest(%s::bigint[], %s::numeric[], %s::numeric[]) AS c(transaction_id, cash_part, bonus_part)
    JOIN wallet_transaction t ON t.id = c.transaction_id
    {_PLACE_JOINS}
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT ON CONSTRAINT reports_operator_day_key DO UPDATE SET {_ADD}
"""  # noqa: S608 (names and fixed SQL only)


def _handle(claimed: events.Claimed) -> None:
    """The batch consumer: the claimed rows' deltas in one upsert (the wallet deletes the rows in this
    transaction). The shared lock waits for a rebuild in progress, and makes a rebuild wait for this drain."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [LOCK_KEY])
        cursor.execute(_UPSERT_CLAIMED, [claimed.transaction_ids, claimed.cash_parts, claimed.bonus_parts])


def register() -> None:
    """Once per process (``ReportsConfig.ready``): every posting type is queued for the rollups."""
    events.register_batch_consumer(CONSUMER, _handle, task=DRAIN_TASK, queue="reports")


def drain(
    *, batch: int = 5000, budget_seconds: float | None = None, max_batches: int | None = None
) -> events.DrainResult:
    """Count what waits, ``batch`` queued rows per transaction, until caught up or the budget ends."""
    return events.drain_batches(CONSUMER, batch=batch, budget_seconds=budget_seconds, max_batches=max_batches)


# --- from the ledger --------------------------------------------------------------------------------------------


def _window(start: date | None, end: date | None) -> tuple[str, list[Any]]:
    """A creation-time window certain to hold every transaction of local days ``start`` to ``end`` on any clock
    (UTC-12 to UTC+14: a day's margin each side), for the BRIN indexes and the entries' partitions."""
    clauses, params = [], []
    if start is not None:
        clauses.append("{col} >= %s")
        params.append(datetime.combine(start, time.min, UTC) - timedelta(days=1))
    if end is not None:
        clauses.append("{col} < %s")
        params.append(datetime.combine(end, time.min, UTC) + timedelta(days=2))
    return " AND ".join(clauses), params


def _days(start: date | None, end: date | None, column: str = "day") -> tuple[str, list[Any]]:
    clauses, params = ["true"], []
    if start is not None:
        clauses.append(f"{column} >= %s")
        params.append(start)
    if end is not None:
        clauses.append(f"{column} <= %s")
        params.append(end)
    return " AND ".join(clauses), params


def _from_ledger(start: date | None, end: date | None) -> tuple[str, list[Any]]:
    """The ledger's own account of those days, grouped by the rollup's key (columns in ``KEY + VALUES`` order),
    leaving out the transactions still queued for the consumer. The parts come from the entries on the players'
    cash and bonus accounts. Starts with ``WITH``-able parts: returns (CTE list, params) naming ``ledger``."""
    window, window_params = _window(start, end)
    txn_window = window.format(col="t.created_at") if window else "true"
    entry_window = window.format(col="e.created_at") if window else "true"
    days, day_params = _days(start, end, "x.day")
    sql = f"""{_JURISDICTIONS},
    ledger AS (
        SELECT x.day, x.jurisdiction, x.brand_id, x.currency, x.type, x.game_category, x.provider,
               sum(x.amount) AS amount, sum(x.cash) AS cash_amount, sum(x.bonus) AS bonus_amount, count(*) AS count
        FROM (
            SELECT {_DAY} AS day, {_JURISDICTION} AS jurisdiction, p.brand_id, t.currency, t.type,
                   t.game_category, t.provider, t.amount, coalesce(b.cash, 0) AS cash, coalesce(b.bonus, 0) AS bonus
            FROM wallet_transaction t
            {_PLACE_JOINS}
            LEFT JOIN (
                SELECT e.transaction_id,
                       sum(e.amount) FILTER (WHERE a.kind = 'cash') AS cash,
                       sum(e.amount) FILTER (WHERE a.kind = 'bonus') AS bonus
                FROM wallet_entry e JOIN wallet_account a ON a.id = e.account_id
                WHERE a.kind IN ('cash', 'bonus') AND {entry_window}
                GROUP BY e.transaction_id
            ) b ON b.transaction_id = t.id
            WHERE {txn_window}
              AND NOT EXISTS (SELECT 1 FROM wallet_posting_queue q WHERE q.consumer = %s AND q.transaction_id = t.id)
        ) x
        WHERE {days}
        GROUP BY 1, 2, 3, 4, 5, 6, 7
    )"""  # noqa: S608 (names and fixed SQL only)
    return sql, [*window_params, *window_params, CONSUMER, *day_params]


def rebuild(start: date | None = None, end: date | None = None) -> int:
    """Replace the rollups of local days ``start`` to ``end`` (inclusive; open where None) with the ledger's account
    of them, in one transaction; returns the rows written. Safe while postings arrive and drains run: drains wait
    for it (the lock), and what is still queued when it reads the ledger is left to the consumer. On a big ledger
    rebuild a month at a time (``manage.py reports_rollups_build``): drains wait while it runs. Once it commits,
    the start page's dashboard reads those days again (it caches closed days' figures for hours)."""
    from apps.reports import dashboard

    ledger, params = _from_ledger(start, end)
    days, day_params = _days(start, end)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        cursor.execute("SET LOCAL work_mem = '256MB'")  # the aggregate would spill to disk with the default 4 MB
        cursor.execute(f"DELETE FROM reports_operator_day WHERE {days}", day_params)  # noqa: S608
        cursor.execute(
            f"WITH {ledger} INSERT INTO reports_operator_day ({_COLUMNS}) "  # noqa: S608
            f"SELECT {_COLUMNS} FROM ledger ORDER BY 1, 2, 3, 4, 5, 6, 7",
            params,
        )
        transaction.on_commit(lambda: dashboard.forget_days(start, end))
        return int(cursor.rowcount)


@dataclass(frozen=True)
class Mismatch:
    """One value of one rollup row that differs from the ledger (``stored`` None: the row is missing; ``ledger``
    None: the ledger has no such transactions)."""

    day: date
    jurisdiction: str
    brand_id: int
    currency: str
    type: str
    game_category: str
    provider: str
    column: str
    stored: Decimal | int | None
    ledger: Decimal | int | None

    def __str__(self) -> str:
        where = " ".join(str(v) for v in (self.day, self.jurisdiction, f"brand {self.brand_id}", self.currency))
        what = "/".join(v for v in (self.type, self.game_category, self.provider) if v)
        return f"{where} {what} {self.column}: rollup {self.stored}, ledger {self.ledger}"


@dataclass(frozen=True)
class CheckResult:
    mismatches: list[Mismatch]
    in_flight: int  # queued transactions the consumer has still to count (left out on both sides)


def check(start: date | None = None, end: date | None = None, *, limit: int = 1000) -> list[Mismatch]:
    """Every value of the rollups of those days against a direct aggregation of the ledger, to the cent, with
    rows missing on either side; up to ``limit`` differences. One statement: one snapshot of the ledger, the
    queue and the rollups, so a drain committing meanwhile is seen whole or not at all."""
    return check_with_in_flight(start, end, limit=limit).mismatches


def check_with_in_flight(start: date | None = None, end: date | None = None, *, limit: int = 1000) -> CheckResult:
    ledger, params = _from_ledger(start, end)
    days, day_params = _days(start, end)
    on = " AND ".join(f"s.{c} = ledger.{c}" for c in KEY)
    differs = " OR ".join(f"s.{c} IS DISTINCT FROM ledger.{c}" for c in VALUES)
    keys = ", ".join(f"coalesce(s.{c}, ledger.{c})" for c in KEY)
    pairs = ", ".join(f"s.{c}, ledger.{c}" for c in VALUES)
    sql = f"""
        WITH {ledger},
        s AS (SELECT {_COLUMNS} FROM reports_operator_day WHERE {days})
        SELECT {keys}, {pairs}, (SELECT count(*) FROM wallet_posting_queue WHERE consumer = %s)
        FROM s FULL JOIN ledger ON {on}
        WHERE s.day IS NULL OR ledger.day IS NULL OR {differs}
        ORDER BY 1, 2, 3, 4, 5, 6, 7
        LIMIT %s
    """  # noqa: S608 (names and fixed SQL only)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *day_params, CONSUMER, limit])
        rows = cursor.fetchall()
    found: list[Mismatch] = []
    for row in rows:
        day, jurisdiction, brand_id, currency, kind, category, provider = row[: len(KEY)]
        for i, column in enumerate(VALUES):
            stored, ledger_value = row[len(KEY) + 2 * i], row[len(KEY) + 2 * i + 1]
            if stored != ledger_value:
                found.append(
                    Mismatch(
                        day, jurisdiction, brand_id, currency, kind, category, provider, column, stored, ledger_value
                    )
                )
    return CheckResult(mismatches=found[:limit], in_flight=int(rows[0][-1]) if rows else in_flight())


def in_flight() -> int:
    """Queued transactions the consumer has still to count."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM wallet_posting_queue WHERE consumer = %s", [CONSUMER])
        return int(cursor.fetchone()[0])


def first_day() -> date | None:
    """The ledger's first transaction's UTC date (ids grow with time), for a backfill a month at a time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT created_at FROM wallet_transaction ORDER BY id LIMIT 1")
        row = cursor.fetchone()
    return row[0].astimezone(UTC).date() - timedelta(days=1) if row else None


def months(start: date, end: date) -> Sequence[tuple[date, date]]:
    """(first day, last day) of each calendar month from ``start``'s to ``end``'s, clipped to them."""
    spans, cursor_day = [], start
    while cursor_day <= end:
        following = (cursor_day.replace(day=28) + timedelta(days=4)).replace(day=1)
        spans.append((cursor_day, min(end, following - timedelta(days=1))))
        cursor_day = following
    return spans
