"""The reports on a 10,000,000-entry ledger (issue 18, "Speed"), against a bare aggregate and against a smaller
ledger, same run.

Two databases, seeded once and kept (``bench/reports_seed.py``: the UK quarter April-June 2026, the same 100,000
players, by COPY): ``pitboss_bench_reports_1m`` (1,000,000 entries) and ``pitboss_bench_reports_10m`` (10,000,000).
Each is measured in a process of its own (``python -m bench.reports measure 1m``); this one prints both.

1. ``ggr_daily`` for the whole quarter from the raw transactions (``source=ledger``), written as a run writes it
   (``runs.produce``, CSV, in one READ ONLY REPEATABLE READ transaction with the run's ``work_mem`` and statement
   timeout, as ``runs.run_execute`` reads), against the bare aggregate over the same rows (the period's
   transactions of the report's types, in the report's UTC window: ``sum(amount), count(*)`` by type), in the same
   kind of transaction. Runs alternate (report, baseline, ...) after one warm-up each; medians of
   ``BENCH_REPORTS_N`` (5). Goal: report / baseline <= 1.5.
2. ``uk_quarterly`` (2026-Q1, CSV) and ``mga_monthly`` (2026-06, XML as its schedule writes it) through
   ``runs.produce`` the same way, medians of ``BENCH_REPORTS_N``, with each statement timed on its own (a context
   whose cursor times every ``execute``). Goal: <= 100 ms each on both ledgers and flat (10M / 1M near 1). The
   statements that read the ledger (customer and player funds: today's balances less the entries since the
   period's end; open bets) are shown apart: their cost grows with the entries they read.

``BENCH_REPORTS_SIZES`` (``1m,10m``) picks the databases; ``BENCH_REPORTS_EXPLAIN=1`` prints EXPLAIN (ANALYZE,
BUFFERS) of the GGR report's statement and the baseline on each.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

SIZES = {"1m": 1_000_000, "10m": 10_000_000}
GGR_PARAMS = {"start": "2026-04-01", "end": "2026-06-30", "source": "ledger"}
UK_PARAMS = {"quarter": "2026-Q1"}
MGA_PARAMS = {"month": "2026-06", "open_bet_hours": "24"}
GGR_GOAL = 1.5
ROLLUP_GOAL_MS = 100.0
INTERRUPTED = 3  # the child's exit code for a database whose seeding did not finish


def database(size: str) -> str:
    return f"pitboss_bench_reports_{size}"


# --- the child: one database -----------------------------------------------------------------------------------


def _setup(size: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database(size)}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("ensure_database", verbosity=0)
    call_command("migrate", verbosity=0, interactive=False)


class _TimedCursor:
    """A cursor that records how long each ``execute`` took, under the statement's label."""

    def __init__(self, cursor: Any, record: Callable[[str, float], None]) -> None:
        self._cursor = cursor
        self._record = record

    def execute(self, sql: str, params: Any = None) -> Any:
        started = time.perf_counter()
        result = self._cursor.execute(sql, params)
        self._record(sql, time.perf_counter() - started)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def _timed_context(labels: dict[str, str], seconds: dict[str, float]) -> Any:
    from apps.reports.context import RunContext

    class TimedContext(RunContext):
        @contextmanager
        def cursor(self) -> Iterator[Any]:
            def record(sql: str, took: float) -> None:
                label = labels.get(sql, "other")
                seconds[label] = seconds.get(label, 0.0) + took

            with super().cursor() as cursor:
                yield _TimedCursor(cursor, record)

    return TimedContext(using="default")


@contextmanager
def _run_transaction() -> Iterator[None]:
    """What ``runs.run_execute`` opens around a report: one READ ONLY REPEATABLE READ snapshot, the run's
    ``work_mem`` and statement timeout."""
    from django.conf import settings
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.REPORTS_WORK_MEM])
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{settings.REPORTS_STATEMENT_TIMEOUT_MS}"])
        yield


def _produce(code: str, raw: dict[str, str], fmt: str, labels: dict[str, str]) -> tuple[float, dict[str, float], int]:
    """One run of the report as the runner writes it: (seconds, seconds per statement label, rows)."""
    from django.utils import timezone

    from apps.reports.runs import produce
    from apps.reports.types import report_type

    kind = report_type(code)
    assert kind is not None
    values, texts, errors = kind.clean(raw, today=timezone.localdate())
    assert not errors, errors
    parts: dict[str, float] = {}
    started = time.perf_counter()
    with _run_transaction():
        output = produce(kind, values, texts, fmt, _timed_context(labels, parts))
    seconds = time.perf_counter() - started
    os.unlink(output.path)
    return seconds, parts, output.rows


def _baseline_sql() -> tuple[str, list[Any]]:
    from datetime import date

    from apps.reports.definitions import ggr_daily
    from apps.reports.definitions.common import utc_window

    lo, hi = utc_window(date.fromisoformat(GGR_PARAMS["start"]), date.fromisoformat(GGR_PARAMS["end"]))
    sql = (
        "SELECT type, sum(amount), count(*) FROM wallet_transaction "
        f"WHERE created_at >= %s AND created_at < %s AND type IN ({ggr_daily.IN_TYPES}) GROUP BY type"
    )
    return sql, [lo, hi]


def _baseline() -> float:
    from django.db import connection

    sql, params = _baseline_sql()
    started = time.perf_counter()
    with _run_transaction(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.fetchall()
    return time.perf_counter() - started


def _explain(log: Callable[[str], None]) -> None:
    from datetime import date

    from django.db import connection

    from apps.reports.definitions import ggr_daily
    from apps.reports.definitions.common import utc_window

    start, end = date.fromisoformat(GGR_PARAMS["start"]), date.fromisoformat(GGR_PARAMS["end"])
    lo, hi = utc_window(start, end)
    report = (ggr_daily.LEDGER_SQL, [lo, hi, *([None] * 6), start, end])
    for name, (sql, params) in (("ggr_daily (ledger)", report), ("baseline", _baseline_sql())):
        with _run_transaction(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        log(f"EXPLAIN {name}:\n{plan}")


def _labels() -> dict[str, dict[str, str]]:
    from apps.reports import closes
    from apps.reports.definitions import ggr_daily, mga_monthly, uk_quarterly

    close_reads = "the month-end close's rows (reports_close_*)"
    uk = {
        uk_quarterly.GGY_SQL: "GGY by product (operator day rollups)",
        closes.FUNDS_SQL: "customer funds held (balances less later entries: ledger)",
        closes.ACCOUNTS_SQL: "active accounts and registrations (player day rollups, players)",
        uk_quarterly.PAYMENTS_SQL: "deposits and withdrawals (operator day rollups)",
        uk_quarterly.PROTECTION_SQL: "protection events by age band",
        uk_quarterly.INTERACTIONS_SQL: "customer interactions",
        uk_quarterly.ZONE_SQL: "the GB clock",
        **dict.fromkeys(closes.CLOSE_READS, close_reads),
    }
    mga = {
        mga_monthly.TAX_SQL: "gaming tax basis (operator day rollups)",
        closes.FUNDS_SQL: "player funds, opening and closing (balances less later entries: ledger)",
        closes.OPEN_BETS_SQL: "open bets at the month's end (ledger)",
        mga_monthly.FLOWS_SQL: "the month's flows (operator day rollups)",
        **dict.fromkeys(closes.CLOSE_READS, close_reads),
    }
    return {"ggr": {ggr_daily.LEDGER_SQL: "the grouped statement"}, "uk": uk, "mga": mga}


CLOSE_DAYS = ("2026-05-31", "2026-06-30")  # the MGA month's opening and closing, and the UK quarter's end


def _take_closes() -> dict[str, float]:
    """The closes the returns read, taken again (the seconds each took)."""
    from datetime import date

    from apps.reports import closes

    _drop_closes()
    taken = {}
    for day in CLOSE_DAYS:
        started = time.perf_counter()
        closes.close_take(date.fromisoformat(day))
        taken[day] = time.perf_counter() - started
    return taken


def _drop_closes() -> None:
    from datetime import date

    from apps.reports.models import PeriodClose

    PeriodClose.objects.filter(day__in=[date.fromisoformat(d) for d in CLOSE_DAYS]).delete()


def _ledger_figures() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM wallet_transaction), (SELECT count(*) FROM wallet_entry), "
            "(SELECT count(*) FROM reports_operator_day), (SELECT count(*) FROM wallet_player_day), "
            "(SELECT count(DISTINCT player_id) FROM wallet_transaction), "
            "pg_size_pretty(pg_total_relation_size('wallet_transaction') + pg_total_relation_size('wallet_entry'))"
        )
        txns, entries, operator_days, player_days, players, size = cursor.fetchone()
    return {
        "transactions": txns,
        "entries": entries,
        "operator_day_rows": operator_days,
        "player_day_rows": player_days,
        "players_with_postings": players,
        "ledger_size": size,
    }


def measure(size: str) -> int:
    """The child's work on one database; prints progress, then one ``RESULT`` line of JSON."""
    _setup(size)
    from bench import reports_seed

    if reports_seed.seeded() is None and reports_seed._scalar("SELECT count(*) FROM wallet_transaction"):
        return INTERRUPTED
    seed = reports_seed.ensure_seeded(SIZES[size], lambda line: print(line, flush=True))
    n = int(os.environ.get("BENCH_REPORTS_N", "5"))
    labels = _labels()
    if os.environ.get("BENCH_REPORTS_EXPLAIN"):
        _explain(lambda text: print(text, flush=True))
    load_before = os.getloadavg()
    # 1. GGR daily from the raw ledger against the bare aggregate, alternating, after a warm-up of each
    ggr_rows = _produce("ggr_daily", GGR_PARAMS, "csv", labels["ggr"])[2]
    _baseline()
    report_runs, sql_runs, baseline_runs = [], [], []
    for _ in range(n):
        seconds, parts, _rows = _produce("ggr_daily", GGR_PARAMS, "csv", labels["ggr"])
        report_runs.append(seconds)
        sql_runs.append(parts.get("the grouped statement", 0.0))
        baseline_runs.append(_baseline())
    # 2. the regulatory returns, warm, each statement on its own: before the month-end closes are taken (the
    # funds, open bets and accounts from the ledger), then reading the closes
    returns: dict[str, Any] = {}
    _drop_closes()
    for suffix in ("_ledger", ""):
        if not suffix:
            returns["closes_taken"] = _take_closes()
        for key, code, raw, fmt in (
            ("uk", "uk_quarterly", UK_PARAMS, "csv"),
            ("mga", "mga_monthly", MGA_PARAMS, "xml"),
        ):
            _produce(code, raw, fmt, labels[key])  # warm
            totals, parts_runs, rows = [], [], 0
            for _ in range(n):
                seconds, parts, rows = _produce(code, raw, fmt, labels[key])
                totals.append(seconds)
                parts_runs.append(parts)
            names = list(dict.fromkeys(name for parts in parts_runs for name in parts))
            returns[key + suffix] = {
                "total": statistics.median(totals),
                "rows": rows,
                "parts": {name: statistics.median(p.get(name, 0.0) for p in parts_runs) for name in names},
            }
    result = {
        "size": size,
        "seed": seed,
        "ledger": _ledger_figures(),
        "n": n,
        "load": [load_before, os.getloadavg()],
        "ggr": {
            "report": statistics.median(report_runs),
            "statement": statistics.median(sql_runs),
            "baseline": statistics.median(baseline_runs),
            "rows": ggr_rows,
            "runs": [report_runs, baseline_runs],
        },
        **returns,
    }
    print("RESULT " + json.dumps(result, default=str), flush=True)
    return 0


# --- the parent: both databases, one table ----------------------------------------------------------------------


def _drop(size: str) -> None:
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database(size)}" WITH (FORCE)')


def _child(size: str) -> dict[str, Any]:
    for _attempt in range(2):
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.reports", "measure", size],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        assert process.stdout is not None
        result: dict[str, Any] | None = None
        for line in process.stdout:
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT ") :])
            else:
                print(f"  [{size}] {line}", end="", flush=True)
        code = process.wait()
        if code == INTERRUPTED:
            print(f"  [{size}] an interrupted seeding: dropping {database(size)} and seeding again", flush=True)
            _drop(size)
            continue
        if code != 0 or result is None:
            raise SystemExit(f"bench.reports measure {size} failed (exit {code})")
        return result
    raise SystemExit(f"bench.reports measure {size}: the seeding did not finish twice")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def report(results: dict[str, dict[str, Any]]) -> None:
    print("\n== reports: the UK quarter 2026-Q1 (2026-04-01..2026-06-30) ==")
    for size, r in results.items():
        seed, ledger = r["seed"], r["ledger"]
        print(
            f"  {database(size)}: {ledger['entries']:,} entries, {ledger['transactions']:,} transactions, "
            f"{ledger['players_with_postings']:,} players with postings of {seed['players']:,}, ledger "
            f"{ledger['ledger_size']}, {ledger['operator_day_rows']:,} operator day rows, "
            f"{ledger['player_day_rows']:,} player day rows; seeded in {seed['seconds']:,} s; load "
            f"{r['load'][0][0]:.1f} -> {r['load'][1][0]:.1f}; median of {r['n']}"
        )
    print("  ggr_daily, the quarter from the raw transactions vs the bare aggregate over the same rows:")
    for size, r in results.items():
        g = r["ggr"]
        ratio = g["report"] / g["baseline"]
        print(
            f"    {size:>4}: report {_ms(g['report'])} ({g['rows']:,} rows; its statement {_ms(g['statement'])}), "
            f"baseline {_ms(g['baseline'])}: {ratio:.2f}x (goal <= {GGR_GOAL}x: "
            f"{'met' if ratio <= GGR_GOAL else 'NOT met'})"
        )
    sizes = list(results)
    print(f"  taking the month-end closes the returns read (seconds): {' | '.join(sizes)}")
    for day in CLOSE_DAYS:
        taken = [f"{results[s]['closes_taken'][day]:.2f} s" for s in sizes]
        print(f"    {day}: {' | '.join(taken)}")
    for key, title in (
        ("uk_ledger", "uk_quarterly 2026-Q1 (csv), before the closes (ledger)"),
        ("mga_ledger", "mga_monthly 2026-06 (xml), before the closes (ledger)"),
        ("uk", "uk_quarterly 2026-Q1 (csv), reading the closes"),
        ("mga", "mga_monthly 2026-06 (xml), reading the closes"),
    ):
        print(f"  {title}: {' | '.join(sizes)}{' | 10m/1m' if len(sizes) == 2 else ''}")
        rows = [("whole report", [results[s][key]["total"] for s in sizes])]
        names = list(dict.fromkeys(n for s in sizes for n in results[s][key]["parts"]))
        rows += [(name, [results[s][key]["parts"].get(name, 0.0) for s in sizes]) for name in names]
        for name, values in rows:
            flat = f" | {values[1] / values[0]:.2f}x" if len(values) == 2 and values[0] else ""
            print(f"    {name[:74]:<74} {' | '.join(_ms(v) for v in values)}{flat}")
        if key.endswith("_ledger"):
            continue
        for s in sizes:
            total = results[s][key]["total"]
            print(
                f"    {s}: {_ms(total)} (goal <= {ROLLUP_GOAL_MS:.0f} ms: "
                f"{'met' if total * 1000 <= ROLLUP_GOAL_MS else 'NOT met'})"
            )


def run() -> None:
    """``python -m bench reports``: each database in its own process, then the table."""
    wanted = os.environ.get("BENCH_REPORTS_SIZES", ",".join(SIZES)).split(",")
    results = {size: _child(size) for size in wanted if size in SIZES}
    report(results)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "measure" and sys.argv[2] in SIZES:
        sys.exit(measure(sys.argv[2]))
    run()
