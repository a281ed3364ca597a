"""Partitioning the entries table by month in place, against the cost of a rewrite, same run.

Inside one transaction that is rolled back (the bench database stays a plain table): ``BENCH_PARTITION_ROWS``
synthetic entries are added, then
(a) baseline: copying the table (``CREATE TABLE AS``), what any switch that rewrites rows would cost at least;
(b) ``prepare``: the unique (id, created_at) index and the validated range CHECK (online in production, where
    the index is built CONCURRENTLY; here inside the transaction);
(c) ``convert``: the part that holds the exclusive lock (catalogue changes, no scan, no copy);
(d) what routing costs afterwards: ``INSERTS`` single-row entry inserts (the bet path's statement shape, as a
    prepared statement) into the plain table, then into the partitioned one, same transaction.
Goal: the exclusive-lock phase is a small fraction of a rewrite and does not grow with the table.
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.db import connection, transaction

from apps.wallet import partitioning

ROWS = int(os.environ.get("BENCH_PARTITION_ROWS", "2000000"))
INSERTS = int(os.environ.get("BENCH_PARTITION_INSERTS", "5000"))


def _inserts(txn: int, account: int) -> float:
    """Seconds per single-row entry insert: the insert and its routing (triggers and foreign-key checks off,
    as they are the same either way and the balance trigger would refuse these one-sided rows)."""
    _timed("SET LOCAL session_replication_role = replica")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for _ in range(INSERTS):
            cursor.execute(
                "INSERT INTO wallet_entry (transaction_id, account_id, amount, currency, created_at) "
                "VALUES (%s, %s, 0.10, 'GBP', now())",
                [txn, account],
            )
    seconds = (time.perf_counter() - started) / INSERTS
    _timed("SET LOCAL session_replication_role = origin")
    return seconds


class _Rollback(Exception):
    pass


def _timed(sql: str, params: list[Any] | None = None) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return time.perf_counter() - started


def run() -> None:
    print(f"\n== partitioning wallet_entry by month: +{ROWS:,} synthetic entries (rolled back afterwards) ==")
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT min(id) FROM wallet_transaction")
                txn = cursor.fetchone()[0]
                cursor.execute("SELECT min(id), max(id) FROM wallet_account")
                low, high = cursor.fetchone()
            if txn is None or low is None:
                print("  skipped: run the wallet benchmark first (it creates accounts and transactions)")
                return
            # synthetic rows (foreign keys and triggers off for the bulk load only: this is test data)
            _timed("SET LOCAL session_replication_role = replica")
            loaded = _timed(
                "INSERT INTO wallet_entry (transaction_id, account_id, amount, currency, created_at) "
                "SELECT %s, %s + (g %% (%s - %s + 1)), 0.10, 'GBP', now() - (g %% 400) * interval '1 day' "
                "FROM generate_series(1, %s) g",
                [txn, low, high, low, ROWS],
            )
            _timed("SET LOCAL session_replication_role = origin")
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM wallet_entry")
                total = cursor.fetchone()[0]
            plain_insert = _inserts(txn, low)
            rewrite = _timed("CREATE TEMP TABLE bench_entry_copy AS SELECT * FROM wallet_entry")
            boundary = partitioning.first_boundary()
            started = time.perf_counter()
            partitioning.prepare(boundary, concurrently=False)
            prepare = time.perf_counter() - started
            started = time.perf_counter()
            partitioning.convert(boundary)
            switch = time.perf_counter() - started
            _inserts(txn, low)  # warm: the prepared statement is planned again for the new table
            partitioned_insert = _inserts(txn, low)
            print(f"  loaded {ROWS:,} rows in {loaded:.1f} s; the table holds {total:,}")
            print(f"  rewrite: copy the table (baseline)   {rewrite * 1e3:10.1f} ms   1.00x")
            print(
                f"  prepare: index + validated CHECK     {prepare * 1e3:10.1f} ms   {prepare / rewrite:5.2f}x  (online)"
            )
            print(f"  convert: under the exclusive lock    {switch * 1e3:10.1f} ms   {switch / rewrite:5.3f}x")
            print(f"  insert, plain table (baseline)       {plain_insert * 1e6:10.1f} µs   1.00x")
            print(
                f"  insert, partitioned by month         {partitioned_insert * 1e6:10.1f} µs   "
                f"{partitioned_insert / plain_insert:5.2f}x"
            )
            print(f"  goal: the locked phase is a small fraction of a rewrite: {switch / rewrite:.3f}x")
            raise _Rollback
    except _Rollback:
        pass
