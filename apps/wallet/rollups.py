"""Per-player day rollups (``wallet_player_day``): what limit usage, CDD rolling sums, wagering windows and the
reports read instead of re-summing the ledger. A month is at most 31 rows.

The posting statement (``posting.write``) upserts the row of the player's local day (``day_of``: the
jurisdiction's clock, as limit periods are) with the deltas of its type (``DELTAS``). Usage of a period that
starts at local midnight of day D is the sum of the rows with ``day >= D``: exactly what summing the
transactions created since that midnight gave, because a posting's day is its creation time on the same clock.

``build`` (the migration and ``manage.py wallet_rollups_build``) recomputes the rows from the ledger, a batch of
players at a time under their account locks (so a concurrent posting waits rather than being counted twice or
lost); ``mismatches`` (``manage.py ledger_verify``) compares them with the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from apps.geo import config as geo_config

ZERO = Decimal("0")
MONEY_COLUMNS = (
    "deposits",
    "withdrawals",
    "withdrawals_paid",
    "stakes",
    "bonus_stakes",
    "wins",
    "bonus_wins",
    "bonus_awarded",
    "bonus_converted",
    "bonus_forfeited",
    "adjustments",
)
COUNT_COLUMNS = ("deposit_count", "withdrawal_count", "bet_count", "win_count")
COLUMNS = MONEY_COLUMNS + COUNT_COLUMNS

# Per transaction type: column -> (what, sign). "amount" is the headline amount, "bonus" the bonus part, "cash"
# the signed move of the player's cash (adjustments), 1 a count.
DELTAS: dict[str, dict[str, tuple[str, int]]] = {
    "deposit": {"deposits": ("amount", 1), "deposit_count": ("one", 1)},
    "withdrawal": {"withdrawals": ("amount", 1), "withdrawal_count": ("one", 1)},
    "withdrawal_cancel": {"withdrawals": ("amount", -1), "withdrawal_count": ("one", -1)},
    "withdrawal_paid": {"withdrawals_paid": ("amount", 1)},
    "bet": {"stakes": ("amount", 1), "bonus_stakes": ("bonus", 1), "bet_count": ("one", 1)},
    "rollback": {"stakes": ("amount", -1), "bonus_stakes": ("bonus", -1), "bet_count": ("one", -1)},
    "win": {"wins": ("amount", 1), "bonus_wins": ("bonus", 1), "win_count": ("one", 1)},
    "win_rollback": {"wins": ("amount", -1), "bonus_wins": ("bonus", -1), "win_count": ("one", -1)},
    "bonus_award": {"bonus_awarded": ("amount", 1)},
    "bonus_convert": {"bonus_converted": ("amount", 1)},
    "bonus_forfeit": {"bonus_forfeited": ("amount", 1)},
    "adjustment": {"adjustments": ("cash", 1)},
}


def zone_for(country: str, region: str, geo_version: int | None, at: datetime) -> str:
    """The time zone of the player's jurisdiction (residence), as ``can()`` finds it; UTC without one."""
    snap = geo_config.snapshot(geo_version)
    code = snap.jurisdiction_code(country, region)
    rules = snap.rules_for(code, at) if code else None
    return rules.time_zone if rules is not None and rules.time_zone else "UTC"


def day_of(at: datetime, zone: str) -> date:
    return at.astimezone(ZoneInfo(zone)).date() if zone != "UTC" else at.date()


def deltas(type: str, *, amount: Decimal, cash: Decimal, bonus: Decimal) -> dict[str, Decimal | int]:
    """The rollup columns a posting of ``type`` moves (``cash``: signed cash move; ``bonus``: unsigned part)."""
    values = {"amount": amount, "bonus": bonus, "cash": cash}
    moved: dict[str, Decimal | int] = {}
    for column, (what, sign) in DELTAS.get(type, {}).items():
        moved[column] = sign if what == "one" else sign * values[what]
    return moved


def upsert_sql(columns: Iterable[str]) -> str:
    """The CTE that adds one posting to its day's row; parameters: player, currency, day, then one per column.
    Joined to ``t`` (the inserted transaction): a posting that inserted nothing moves nothing."""
    cols = list(columns)
    names = ", ".join(cols)
    values = ", ".join(["%s"] * len(cols))
    updates = ", ".join(f"{c} = wallet_player_day.{c} + EXCLUDED.{c}" for c in cols)
    return (
        f"r AS (INSERT INTO wallet_player_day (player_id, currency, day, {names}, "  # noqa: S608 (names only)
        f"{', '.join(c for c in COLUMNS if c not in cols)}) "
        f"SELECT %s, %s, %s, {values}{''.join(', 0' for c in COLUMNS if c not in cols)} FROM t "
        f"ON CONFLICT (player_id, currency, day) DO UPDATE SET {updates})"
    )


# --- reading ------------------------------------------------------------------------------------------------


def period_sums(
    player_id: int, currency: str, starts: dict[str, date], ends: dict[str, date] | None = None
) -> dict[str, dict[str, Decimal]]:
    """period -> {column: sum over the days from its start (to its end, exclusive, where ``ends`` names one)}:
    one indexed query over at most 31 rows a period."""
    if not starts:
        return {}
    ends = ends or {}
    parts, params = [], []
    for period, start in starts.items():
        end = ends.get(period)
        window = "day >= %s AND day < %s" if end is not None else "day >= %s"
        for column in MONEY_COLUMNS:
            parts.append(f"coalesce(sum({column}) FILTER (WHERE {window}), 0)")
            params += [start, end] if end is not None else [start]
    sql = (
        f"SELECT {', '.join(parts)} FROM wallet_player_day "  # noqa: S608 (placeholders only)
        "WHERE player_id = %s AND currency = %s AND day >= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, player_id, currency, min(starts.values())])
        row = cursor.fetchone()
    result: dict[str, dict[str, Decimal]] = {}
    width = len(MONEY_COLUMNS)
    for i, period in enumerate(starts):
        result[period] = {c: Decimal(v) for c, v in zip(MONEY_COLUMNS, row[i * width : (i + 1) * width], strict=True)}
    return result


# --- building and verifying from the ledger -----------------------------------------------------------------

# The ledger's own account of a player's days: one row per (player, currency, local day) with every column.
_FROM_LEDGER = """
    SELECT t.player_id, t.currency, (t.created_at AT TIME ZONE z.zone)::date AS day,
        coalesce(sum(t.amount) FILTER (WHERE t.type = 'deposit'), 0),
        coalesce(sum(CASE t.type WHEN 'withdrawal' THEN t.amount WHEN 'withdrawal_cancel' THEN -t.amount END), 0),
        coalesce(sum(t.amount) FILTER (WHERE t.type = 'withdrawal_paid'), 0),
        coalesce(sum(CASE t.type WHEN 'bet' THEN t.amount WHEN 'rollback' THEN -t.amount END), 0),
        coalesce(sum(CASE t.type WHEN 'bet' THEN -b.bonus WHEN 'rollback' THEN -b.bonus END), 0),
        coalesce(sum(CASE t.type WHEN 'win' THEN t.amount WHEN 'win_rollback' THEN -t.amount END), 0),
        coalesce(sum(CASE t.type WHEN 'win' THEN b.bonus WHEN 'win_rollback' THEN b.bonus END), 0),
        coalesce(sum(t.amount) FILTER (WHERE t.type = 'bonus_award'), 0),
        coalesce(sum(t.amount) FILTER (WHERE t.type = 'bonus_convert'), 0),
        coalesce(sum(t.amount) FILTER (WHERE t.type = 'bonus_forfeit'), 0),
        coalesce(sum(b.cash) FILTER (WHERE t.type = 'adjustment'), 0),
        count(*) FILTER (WHERE t.type = 'deposit'),
        count(*) FILTER (WHERE t.type = 'withdrawal') - count(*) FILTER (WHERE t.type = 'withdrawal_cancel'),
        count(*) FILTER (WHERE t.type = 'bet') - count(*) FILTER (WHERE t.type = 'rollback'),
        count(*) FILTER (WHERE t.type = 'win') - count(*) FILTER (WHERE t.type = 'win_rollback')
    FROM wallet_transaction t
    JOIN (SELECT unnest(%s::bigint[]) AS player_id, unnest(%s::text[]) AS zone) z ON z.player_id = t.player_id
    LEFT JOIN (  -- what each transaction moved on the player's cash and bonus accounts (by account: indexed)
        SELECT e.transaction_id,
               coalesce(sum(e.amount) FILTER (WHERE a.kind = 'cash'), 0) AS cash,
               coalesce(sum(e.amount) FILTER (WHERE a.kind = 'bonus'), 0) AS bonus
        FROM wallet_account a JOIN wallet_entry e ON e.account_id = a.id
        WHERE a.player_id = ANY(%s::bigint[]) AND a.kind IN ('cash', 'bonus')
        GROUP BY e.transaction_id
    ) b ON b.transaction_id = t.id
    GROUP BY 1, 2, 3
"""


# ``zone_for`` in SQL, for the batch paths (the build, the migration, the verification): the region's jurisdiction
# if it has rule packs, else the country's; its zone if a pack is in force, else UTC. A test keeps the two equal.
ZONE_SQL = """coalesce((
    SELECT j.time_zone FROM geo_jurisdiction j
    WHERE j.code = CASE WHEN EXISTS (
            SELECT 1 FROM geo_rulepack rp JOIN geo_jurisdiction jr ON jr.id = rp.jurisdiction_id
            WHERE jr.code = p.region AND p.region <> ''
        ) THEN p.region ELSE p.country END
      AND EXISTS (SELECT 1 FROM geo_rulepack rp WHERE rp.jurisdiction_id = j.id AND rp.effective_from <= now())
), 'UTC')"""


def _player_zones(after_id: int, limit: int, using: str = DEFAULT_DB_ALIAS) -> list[tuple[int, str]]:
    """The next ``limit`` players after ``after_id`` with their jurisdiction's zone (as the postings used)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT p.id, {ZONE_SQL} FROM players_player p WHERE p.id > %s ORDER BY p.id LIMIT %s",  # noqa: S608
            [after_id, limit],
        )
        return [(int(pid), str(zone)) for pid, zone in cursor.fetchall()]


def _lock_players(player_ids: list[int], using: str) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT id FROM wallet_account WHERE player_id = ANY(%s) ORDER BY id FOR UPDATE", [player_ids])


def rebuild_players(zones: list[tuple[int, str]], using: str = DEFAULT_DB_ALIAS) -> int:
    """Replace these players' rollups with the ledger's account of them, under their account locks (one
    transaction). Returns the rows written."""
    ids, names = [pid for pid, _ in zones], [zone for _, zone in zones]
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        _lock_players(ids, using)
        cursor.execute("DELETE FROM wallet_player_day WHERE player_id = ANY(%s)", [ids])
        cursor.execute(
            f"INSERT INTO wallet_player_day (player_id, currency, day, {', '.join(COLUMNS)}) {_FROM_LEDGER}",
            [ids, names, ids],
        )
        return int(cursor.rowcount)


def build(*, after_id: int = 0, batch: int = 2000, using: str = DEFAULT_DB_ALIAS) -> Iterator[tuple[int, int]]:
    """Rebuild every player's rollups from the ledger, ``batch`` players per transaction, in id order, from the
    player after ``after_id`` (to resume). Yields (last player id done, rows written) after each batch."""
    while True:
        zones = _player_zones(after_id, batch, using)
        if not zones:
            return
        written = rebuild_players(zones, using)
        after_id = zones[-1][0]
        yield after_id, written


@dataclass(frozen=True)
class RollupMismatch:
    player_id: int
    currency: str
    day: date
    column: str
    stored: Any
    from_ledger: Any


def mismatches(*, batch: int = 5000, limit: int = 100) -> list[RollupMismatch]:
    """Where ``wallet_player_day`` differs from the ledger (up to ``limit``), a batch of players at a time."""
    found: list[RollupMismatch] = []
    after_id = 0
    columns = ", ".join(f"r.{c}" for c in COLUMNS)
    while len(found) < limit:
        zones = _player_zones(after_id, batch)
        if not zones:
            break
        after_id = zones[-1][0]
        ids, names = [pid for pid, _ in zones], [zone for _, zone in zones]
        sql = f"""
            WITH l AS ({_FROM_LEDGER}),
            r AS (SELECT player_id, currency, day, {", ".join(COLUMNS)} FROM wallet_player_day
                  WHERE player_id = ANY(%s))
            SELECT coalesce(l.player_id, r.player_id), coalesce(l.currency, r.currency), coalesce(l.day, r.day),
                   {columns}, l.*
            FROM l FULL JOIN r ON r.player_id = l.player_id AND r.currency = l.currency AND r.day = l.day
        """  # noqa: S608 (names only)
        with connection.cursor() as cursor:
            cursor.execute(sql, [ids, names, ids, ids])
            for row in cursor.fetchall():
                stored = row[3 : 3 + len(COLUMNS)]
                ledger = row[3 + len(COLUMNS) + 3 :]
                for i, column in enumerate(COLUMNS):
                    s = stored[i] if stored[i] is not None else 0
                    l_ = ledger[i] if ledger[i] is not None else 0
                    if s != l_:
                        found.append(RollupMismatch(row[0], row[1], row[2], column, stored[i], ledger[i]))
    return found[:limit]
