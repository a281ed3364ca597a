"""The rollups the start page's dashboard reads, at a busy operator's size, for bench/page_budget.py.

The dashboard never reads the ledger: its money comes from ``reports_operator_day`` and its active players from
``wallet_player_day``. The first's size is days x jurisdictions x brands x currencies x types x game categories x
providers, whatever the number of entries behind it: 10,000,000 entries or 100,000,000 make the same rows once every
combination occurs each day. So it is seeded by SQL at the size the issue names for a big operator: 90 days x 5
jurisdictions x 3 currencies x 12 transaction types x 10 game categories x 20 providers, 36,000 rows a day and
3,240,000 in all (an upper bound: deposits and withdrawals have no game in the real table). The second grows with
players x days played: a quarter of the million players, each on 6 of the last 30 days (1,500,000 rows), so the
active-players figure comes from its sample, as it would on a big database.

Both are kept in the bench database and topped up each run to the days up to today (the window moves with the
date); the seeded rows carry game categories and providers of their own (``bench-c01``, ``bench-p01``...), and days
older than the 90 are deleted. No ledger stands behind them: ``manage.py reports_rollups_check`` on the bench
database reports them, as it would any rollup the ledger does not explain.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

DAYS = 90
JURISDICTIONS = ("GB", "MT", "DE", "SE", "NL")
CURRENCIES = ("EUR", "GBP", "SEK")
TYPES = (
    "bet",
    "rollback",
    "win",
    "win_rollback",
    "deposit",
    "withdrawal",
    "withdrawal_cancel",
    "withdrawal_paid",
    "bonus_award",
    "bonus_convert",
    "bonus_forfeit",
    "adjustment",
)
CATEGORIES = 10
PROVIDERS = 20
PER_DAY = len(JURISDICTIONS) * len(CURRENCIES) * len(TYPES) * CATEGORIES * PROVIDERS

# Every combination of one day, amounts by type in a plausible proportion (wins about 95% of bets, a few rollbacks).
OPERATOR_DAY_SQL = """
    INSERT INTO reports_operator_day (day, jurisdiction, brand_id, currency, type, game_category, provider,
                                      amount, cash_amount, bonus_amount, count)
    SELECT %(day)s, j, (SELECT id FROM players_brand ORDER BY id LIMIT 1), c, t,
           'bench-c' || lpad(g::text, 2, '0'), 'bench-p' || lpad(p::text, 2, '0'),
           round(((CASE t WHEN 'bet' THEN 1000 WHEN 'win' THEN 950 WHEN 'deposit' THEN 400 WHEN 'withdrawal' THEN 250
                         WHEN 'withdrawal_paid' THEN 240 WHEN 'bonus_award' THEN 30 WHEN 'bonus_convert' THEN 10
                         WHEN 'bonus_forfeit' THEN 12 ELSE 5 END) * (0.5 + random()))::numeric, 4),
           0, 0, 1 + (random() * 40)::int
    FROM unnest(%(jurisdictions)s::text[]) j, unnest(%(currencies)s::text[]) c, unnest(%(types)s::text[]) t,
         generate_series(1, %(categories)s) g, generate_series(1, %(providers)s) p
    ON CONFLICT ON CONSTRAINT reports_operator_day_key DO NOTHING
"""

# One day's players: a quarter of them (id % 4 = 0), each on the days where (id / 4 + day) % 5 = 0: 6 of 30.
PLAYER_DAY_SQL = """
    INSERT INTO wallet_player_day (player_id, currency, day, deposits, deposit_count, withdrawals, withdrawal_count,
        withdrawals_paid, stakes, bonus_stakes, bet_count, wins, bonus_wins, win_count, bonus_awarded, bonus_converted,
        bonus_forfeited, adjustments)
    SELECT p.id, p.currency, %(day)s, 20, 1, 0, 0, 0, (p.id %% 89) + 5, 0, 1 + p.id %% 30, (p.id %% 83), 0, 3, 0, 0,
           0, 0
    FROM players_player p
    WHERE p.id %% 4 = 0 AND (p.id / 4 + %(ordinal)s) %% 5 = 0
    ON CONFLICT DO NOTHING
"""


def _has_operator_day(day: date) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM reports_operator_day WHERE day = %s AND provider = 'bench-p20')", [day]
        )
        return bool(cursor.fetchone()[0])


def _has_player_day(day: date) -> bool:
    """Whether the first player who plays on ``day`` has their row (the unique index answers)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM wallet_player_day d JOIN players_player p ON p.id = d.player_id"
            " WHERE d.day = %s AND p.id = (SELECT min(id) FROM players_player"
            " WHERE id %% 4 = 0 AND (id / 4 + %s) %% 5 = 0) AND d.currency = p.currency)",
            [day, day.toordinal()],
        )
        return bool(cursor.fetchone()[0])


def ensure() -> dict[str, int]:
    """The 90 days of operator rollups and the 30 days of player rollups up to today (and tomorrow, for the clocks
    ahead of the admin's); what is missing is seeded, what has aged out deleted. Returns the tables' sizes."""
    today = timezone.localdate()
    days = [today + timedelta(days=1) - timedelta(days=n) for n in range(DAYS)]
    missing = [d for d in days if not _has_operator_day(d)]
    player_days = [d for d in days[:31] if not _has_player_day(d)]
    started = time.perf_counter()
    if missing or player_days:
        print(
            f"seeding dashboard rollups: {len(missing)} operator days ({len(missing) * PER_DAY:,} rows), "
            f"{len(player_days)} player days (kept; topped up each run)...",
            flush=True,
        )
    params: dict[str, Any] = {
        "jurisdictions": list(JURISDICTIONS),
        "currencies": list(CURRENCIES),
        "types": list(TYPES),
        "categories": CATEGORIES,
        "providers": PROVIDERS,
    }
    with connection.cursor() as cursor:
        for day in missing:
            cursor.execute(OPERATOR_DAY_SQL, {**params, "day": day})
        for day in player_days:
            cursor.execute(PLAYER_DAY_SQL, {"day": day, "ordinal": day.toordinal()})
        cursor.execute("DELETE FROM reports_operator_day WHERE day < %s AND provider LIKE 'bench-p%%'", [days[-1]])
        if missing or player_days:
            cursor.execute("VACUUM ANALYZE reports_operator_day")
            cursor.execute("VACUUM ANALYZE wallet_player_day")
            print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'reports_operator_day'")
        operator_rows = int(cursor.fetchone()[0])
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'wallet_player_day'")
        player_rows = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT count(*) FROM reports_operator_day WHERE day BETWEEN %s AND %s", [today - timedelta(days=29), today]
        )
        window_rows = int(cursor.fetchone()[0])
    return {"operator_rows": operator_rows, "window_rows": window_rows, "player_day_rows": player_rows}
