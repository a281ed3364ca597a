"""A backtest of 90 days of a 10,000,000-entry ledger, against one plain read of those days, same run.

The ledger (seeded once by SQL and kept in the bench database; ``bench_aml_seed`` says which days it covers):
``BENCH_AML_TRANSACTIONS`` (5,000,000) transactions, two entries each, for ``BENCH_AML_PLAYERS`` (100,000) of the
million players, spread over the 90 UTC days before the seeding day, in id order = time order as the posting path
gives. Per player: a first deposit (EUR 1,000-3,000 in the player's currency), then about 4 % deposits (70 % of
EUR 10-300, 20 % of 300-1,400, 10 % of 1,400-1,990), 1 % withdrawal requests, 54 % bets, 41 % wins; one player in a
hundred makes five deposits just under the CDD threshold on consecutive days (the structuring rule's case). The
seeding bypasses the ledger's triggers (``session_replication_role = replica``), sets the player accounts'
balances to the sums of their entries and rebuilds the players' day rollups (``apps.wallet.rollups``), then checks
that every seeded transaction balances and every balance equals its entries.

Baseline: one ``SELECT count(*), sum(amount)`` over the period's transactions (warm: the second of two runs).
Measured: two backtests through the job runner (``backtest_start``, then ``job_run_slice`` until done, 30 s
slices committed as in production), each a candidate version against the live seed version over the 90 days:
``amount-24h`` at EUR 1,000 instead of 2,000, and ``structuring-under-cdd`` at 25 % under the threshold and 2
deposits instead of 15 % and 3. Goal: each <= 10 minutes on this machine (issue 16).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Max

from apps.compliance import backtest, kinds
from apps.compliance.choices import VersionMode, VersionState
from apps.compliance.models import RuleVersion
from apps.core.jobs import job_run_slice
from apps.core.models import Job, JobStatus
from apps.staff.models import StaffUser
from apps.wallet import rollups
from bench.players import ensure_players

PLAYERS = int(os.environ.get("BENCH_AML_PLAYERS", "100000"))
TRANSACTIONS = int(os.environ.get("BENCH_AML_TRANSACTIONS", "5000000"))
DAYS = 90
CHUNKS = 10  # seeding transactions (each a slice of the period, so ids stay in time order across them)
PLAYER_OFFSET = 300_000  # past the players other benchmarks post for (the first funded GB players)
GOAL_SECONDS = 600.0
NOTE = "aml_backtest bench candidate"
CANDIDATES = (
    ("amount-24h", {"amount": {"amount": "1000.00", "currency": "EUR"}}),
    ("structuring-under-cdd", {"percent": "25", "count": 2}),
)

_GENERATE = """
    WITH x AS (
        SELECT n %% %(players)s AS i, n / %(players)s AS k, random() AS r, random() AS r2, random() AS r3,
               random() AS r4
        FROM generate_series(%(first)s, %(last)s) n
    ), y AS (
        SELECT x.*, p.player_id, p.currency, c.rate,
               CASE WHEN x.k = 0 OR (x.i %% 100 = 0 AND x.k BETWEEN 10 AND 14) OR x.r < 0.04 THEN 'deposit'
                    WHEN x.r < 0.05 THEN 'withdrawal' WHEN x.r < 0.59 THEN 'bet' ELSE 'win' END AS type
        FROM x JOIN bench_aml_players p ON p.i = x.i JOIN bench_aml_rates c ON c.currency = p.currency
    )
    SELECT player_id, currency, type,
           round((CASE type
                WHEN 'deposit' THEN CASE WHEN k = 0 THEN 1000 + r2 * 2000
                                         WHEN i %% 100 = 0 AND k BETWEEN 10 AND 14 THEN 1710 + r2 * 280
                                         WHEN r2 < 0.7 THEN 10 + r3 * 290
                                         WHEN r2 < 0.9 THEN 300 + r3 * 1100
                                         ELSE 1400 + r3 * 590 END
                WHEN 'withdrawal' THEN 10 + r2 * 90
                WHEN 'bet' THEN 0.10 + r2 * 4.9
                ELSE 0.10 + r2 * 9.9 END)::numeric * rate, CASE currency WHEN 'JPY' THEN 0 ELSE 2 END) AS amount,
           %(start)s::timestamptz + ((k + r4) / %(per_player)s) * interval '%(days)s days' AS created_at,
           CASE type WHEN 'deposit' THEN 'card' WHEN 'withdrawal' THEN 'card' ELSE '' END AS payment_method,
           CASE type WHEN 'deposit' THEN md5(player_id || '-' || floor(r3 * 3)) ELSE '' END AS instrument,
           CASE WHEN type IN ('bet', 'win') THEN 'slots' ELSE '' END AS game_category
    FROM y
"""
_INSERT = f"""
    WITH t AS (
        INSERT INTO wallet_transaction (type, player_id, currency, amount, created_at, api_client, reference,
            round_id, game_id, game_category, provider, payment_method, instrument_fingerprint, staff_actor, reason)
        SELECT type, player_id, currency, amount, created_at, '', '', '', '', game_category, '', payment_method,
               instrument, '', ''
        FROM ({_GENERATE}) g WHERE amount > 0 ORDER BY created_at
        RETURNING id, type, player_id, currency, amount, created_at
    )
    INSERT INTO wallet_entry (transaction_id, account_id, amount, currency, created_at)
    SELECT t.id, l.account_id, l.amount, t.currency, t.created_at
    FROM t JOIN bench_aml_accounts a ON a.player_id = t.player_id
    JOIN bench_aml_operator o ON o.currency = t.currency
    CROSS JOIN LATERAL (VALUES
        (CASE t.type WHEN 'deposit' THEN o.clearing WHEN 'win' THEN o.house ELSE a.cash END, -t.amount),
        (CASE t.type WHEN 'deposit' THEN a.cash WHEN 'bet' THEN o.house WHEN 'win' THEN a.cash ELSE a.pending END,
         t.amount)
    ) l(account_id, amount)
"""


def _scalar(sql: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        row = cursor.fetchone()
    return row[0] if row else None


def _seeded() -> dict[str, Any] | None:
    if _scalar("SELECT to_regclass('bench_aml_seed')") is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT start_day, end_day, chunks_done, transactions, players, done FROM bench_aml_seed")
        row = cursor.fetchone()
    if row is None:
        return None
    keys = ("start_day", "end_day", "chunks_done", "transactions", "players", "done")
    return dict(zip(keys, row, strict=True))


def _prepare(today: date) -> dict[str, Any]:
    """The players, their accounts and the seed's row (once)."""
    start_day = today - timedelta(days=DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_aml_seed (id int PRIMARY KEY DEFAULT 1, start_day date NOT NULL, "
            "end_day date NOT NULL, chunks_done int NOT NULL DEFAULT 0, transactions bigint NOT NULL, "
            "players int NOT NULL, done boolean NOT NULL DEFAULT false)"
        )
        cursor.execute(
            "CREATE TABLE bench_aml_players (i int PRIMARY KEY, player_id bigint NOT NULL UNIQUE, currency text)"
        )
        cursor.execute(
            "INSERT INTO bench_aml_players SELECT row_number() OVER (ORDER BY id) - 1, id, currency FROM ("
            "  SELECT id, currency FROM players_player WHERE external_id LIKE 'demo-%%' ORDER BY id OFFSET %s LIMIT %s"
            ") p",
            [PLAYER_OFFSET, PLAYERS],
        )
        cursor.execute("CREATE TABLE bench_aml_rates (currency text PRIMARY KEY, rate numeric NOT NULL)")
        cursor.execute(
            "INSERT INTO bench_aml_rates SELECT unnest(%s::text[]), unnest(%s::numeric[])",
            [list(settings.CURRENCY_RATES_PER_EUR), [str(r) for r in settings.CURRENCY_RATES_PER_EUR.values()]],
        )
        missing = _scalar(
            "SELECT count(*) FROM bench_aml_players p LEFT JOIN bench_aml_rates r USING (currency) "
            "WHERE r.currency IS NULL"
        )
        assert missing == 0, f"{missing} players in a currency without a configured rate"
        cursor.execute(
            "INSERT INTO wallet_account (player_id, kind, currency, balance) "
            "SELECT p.player_id, k, p.currency, 0 FROM bench_aml_players p "
            "CROSS JOIN unnest(ARRAY['cash', 'bonus', 'pending_withdrawal']) k ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            "INSERT INTO wallet_account (player_id, kind, currency, balance) "
            "SELECT NULL, k, c.currency, 0 FROM (SELECT DISTINCT currency FROM bench_aml_players) c "
            "CROSS JOIN unnest(ARRAY['house', 'payment_clearing', 'bonus_cost', 'adjustments']) k "
            "ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            "CREATE TABLE bench_aml_accounts AS SELECT p.player_id, "
            "max(a.id) FILTER (WHERE a.kind = 'cash') AS cash, "
            "max(a.id) FILTER (WHERE a.kind = 'pending_withdrawal') AS pending "
            "FROM bench_aml_players p JOIN wallet_account a ON a.player_id = p.player_id AND a.currency = p.currency "
            "GROUP BY p.player_id"
        )
        cursor.execute("ALTER TABLE bench_aml_accounts ADD PRIMARY KEY (player_id)")
        cursor.execute(
            "CREATE TABLE bench_aml_operator AS SELECT currency, "
            "max(id) FILTER (WHERE kind = 'house') AS house, "
            "max(id) FILTER (WHERE kind = 'payment_clearing') AS clearing "
            "FROM wallet_account WHERE player_id IS NULL GROUP BY currency"
        )
        cursor.execute(
            "INSERT INTO bench_aml_seed (start_day, end_day, transactions, players) VALUES (%s, %s, %s, %s)",
            [start_day, today, TRANSACTIONS, PLAYERS],
        )
    seed = _seeded()
    assert seed is not None
    return seed


def _chunk(seed: dict[str, Any], c: int) -> None:
    per_player = seed["transactions"] // seed["players"]
    ks = per_player // CHUNKS
    first_k, last_k = c * ks, (c + 1) * ks - 1 if c < CHUNKS - 1 else per_player - 1
    start = datetime.combine(seed["start_day"], datetime.min.time(), tzinfo=UTC)
    params = {
        "players": seed["players"],
        "first": first_k * seed["players"],
        "last": (last_k + 1) * seed["players"] - 1,
        "start": f"'{start.isoformat()}'",
        "per_player": f"{per_player}.0",
        "days": DAYS,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no per-row triggers, no FK checks
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(_INSERT % params)
        cursor.execute("UPDATE bench_aml_seed SET chunks_done = %s", [c + 1])


def _finish_seed(seed: dict[str, Any]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallet_account a SET balance = s.total FROM ("
            "  SELECT e.account_id, sum(e.amount) AS total FROM wallet_entry e"
            "  JOIN wallet_account x ON x.id = e.account_id JOIN bench_aml_players p ON p.player_id = x.player_id"
            "  GROUP BY e.account_id"
            ") s WHERE a.id = s.account_id"
        )
    for table in ("wallet_transaction", "wallet_entry"):
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.id, {rollups.ZONE_SQL} FROM players_player p "
            "JOIN bench_aml_players b ON b.player_id = p.id ORDER BY p.id"
        )
        zones = [(int(pid), str(zone)) for pid, zone in cursor.fetchall()]
    for i in range(0, len(zones), 2000):
        rollups.rebuild_players(zones[i : i + 2000])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE wallet_player_day")
    _verify(seed)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE bench_aml_seed SET done = true")


def _verify(seed: dict[str, Any]) -> None:
    """What the triggers would have refused and what ledger_verify checks, for the seeded rows."""
    start, end = _period(seed)
    unbalanced = _scalar(
        "SELECT count(*) FROM (SELECT transaction_id FROM wallet_entry WHERE created_at >= %s AND created_at < %s "
        "GROUP BY transaction_id, currency HAVING sum(amount) <> 0) u",
        [start, end],
    )
    wrong = _scalar(
        "SELECT count(*) FROM wallet_account a JOIN bench_aml_players p ON p.player_id = a.player_id "
        "LEFT JOIN (SELECT account_id, sum(amount) AS total FROM wallet_entry GROUP BY account_id) e "
        "ON e.account_id = a.id WHERE a.balance <> coalesce(e.total, 0)"
    )
    deposits_ledger = _scalar(
        "SELECT sum(t.amount) FROM wallet_transaction t JOIN bench_aml_players p ON p.player_id = t.player_id "
        "WHERE t.type = 'deposit'"
    )
    deposits_days = _scalar(
        "SELECT sum(d.deposits) FROM wallet_player_day d JOIN bench_aml_players p ON p.player_id = d.player_id"
    )
    assert unbalanced == 0, f"{unbalanced} seeded transactions do not balance"
    assert wrong == 0, f"{wrong} seeded accounts differ from their entries"
    assert deposits_ledger == deposits_days, f"rollups {deposits_days} != ledger {deposits_ledger}"
    print("  seeded ledger verified: every transaction balances, balances = entries, rollups = ledger", flush=True)


def _period(seed: dict[str, Any]) -> tuple[datetime, datetime]:
    return (
        datetime.combine(seed["start_day"], datetime.min.time(), tzinfo=UTC),
        datetime.combine(seed["end_day"], datetime.min.time(), tzinfo=UTC),
    )


def ensure_ledger() -> dict[str, Any]:
    seed = _seeded()
    if seed is not None and seed["done"]:
        return seed
    started = time.perf_counter()
    if seed is None:
        print(f"seeding {TRANSACTIONS:,} transactions for {PLAYERS:,} players over {DAYS} days (once)...", flush=True)
        seed = _prepare(datetime.now(UTC).date())
    for c in range(seed["chunks_done"], CHUNKS):
        _chunk(seed, c)
        print(f"  chunk {c + 1}/{CHUNKS} in {time.perf_counter() - started:.0f} s", flush=True)
    _finish_seed(seed)
    print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    seed = _seeded()
    assert seed is not None
    return seed


def _analyst() -> StaffUser:
    user, _ = StaffUser.objects.get_or_create(
        username="bench-aml-analyst", defaults={"email": "bench-aml-analyst@staff.invalid", "is_staff": True}
    )
    user.groups.set([Group.objects.get(name="AML Analyst")])
    return StaffUser.objects.get(pk=user.pk)  # a fresh permission cache


def _candidate(code: str, change: dict[str, Any]) -> tuple[RuleVersion, RuleVersion]:
    live = RuleVersion.objects.get(rule__code=code, state=VersionState.PUBLISHED, mode=VersionMode.LIVE)
    params = kinds.validate(live.kind, {**live.params, **change})
    found = RuleVersion.objects.filter(rule=live.rule, note=NOTE, params=params).first()
    if found is None:
        number = (RuleVersion.objects.filter(rule=live.rule).aggregate(n=Max("number"))["n"] or 0) + 1
        found = RuleVersion.objects.create(
            rule=live.rule,
            number=number,
            kind=live.kind,
            params=params,
            score=live.score,
            case_type=live.case_type,
            priority=live.priority,
            note=NOTE,
        )
    return found, live


def _scan(start: datetime, end: datetime) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(amount) FROM wallet_transaction WHERE created_at >= %s AND created_at < %s",
            [start, end],
        )
        cursor.fetchone()
    return time.perf_counter() - started


def _backtest(actor: StaffUser, version: RuleVersion, seed: dict[str, Any]) -> tuple[float, Job]:
    # a backtest left running by an interrupted run would refuse this one (one at a time): end it
    Job.objects.filter(kind=backtest.KIND, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED, error="bench: interrupted run"
    )
    started = time.perf_counter()
    job = backtest.backtest_start(actor=actor, version=version, start=seed["start_day"], end=seed["end_day"])
    while job.status == JobStatus.RUNNING:
        job = job_run_slice(job.pk)
    return time.perf_counter() - started, job


def run() -> None:
    ensure_players()
    seed = ensure_ledger()
    start, end = _period(seed)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE type = 'deposit'), count(*) FILTER (WHERE type = 'withdrawal'), "
            "min(id), max(id) FROM wallet_transaction WHERE created_at >= %s AND created_at < %s",
            [start, end],
        )
        txns, deposits, withdrawals, _first, _last = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM wallet_entry WHERE created_at >= %s AND created_at < %s", [start, end])
        entries = cursor.fetchone()[0]
    _scan(start, end)  # warm
    scans = [_scan(start, end) for _ in range(3)]
    base = statistics.median(scans)
    actor = _analyst()
    results = []
    for code, change in CANDIDATES:
        version, live = _candidate(code, change)
        before = _scan(start, end)
        seconds, job = _backtest(actor, version, seed)
        after = _scan(start, end)
        results.append((code, change, live, seconds, job, before, after))
    print(
        f"\n== aml_backtest: {seed['start_day']} to {seed['end_day']} ({DAYS} days), {txns:,} transactions, "
        f"{entries:,} entries, {seed['players']:,} players; replayed: {deposits:,} deposits, "
        f"{withdrawals:,} withdrawal requests =="
    )
    print(f"  {'baseline: SELECT count(*), sum(amount) over the period':<62} {base:8.2f} s   1.00x")
    for code, change, live, seconds, job, before, after in results:
        summary = job.result.get("summary") or {}
        cand, lv, both = summary.get("candidate", {}), summary.get("live", {}), summary.get("overlap", {})
        label = f"backtest {code} {change} vs v{live.number}"
        print(
            f"  {label[:62]:<62} {seconds:8.1f} s {seconds / base:6.1f}x   = {seconds / 60:5.2f} min "
            f"(goal <= 10 min: {'met' if seconds <= GOAL_SECONDS else 'NOT met'}; {job.slices} slices, "
            f"{job.status})"
        )
        print(
            f"      candidate {cand.get('alerts', 0):,} alerts / {cand.get('players', 0):,} players, live "
            f"{lv.get('alerts', 0):,} / {lv.get('players', 0):,}; both {both.get('both', 0):,}, only candidate "
            f"{both.get('only_candidate', 0):,}, only live {both.get('only_live', 0):,}; "
            f"{(deposits + withdrawals) / seconds:,.0f} postings/s replayed; scan before/after "
            f"{before:.2f}/{after:.2f} s"
        )
