"""What a bet costs as the period fills: limit usage read from the day rollups.

Three funded players, each with a monthly wager limit, hold 0, 10,000 and 100,000 bets already in this month
(seeded once with SQL: ledger rows, their entries and the rollups rebuilt from them, so the ledger verifies). Bets
are posted through ``wallet_bet`` in alternating rounds; the ratio is to the empty period's player. For context,
the query limit usage ran before the rollups (a sum over the period's ``wallet_transaction`` rows) is timed at
each size too. Goal: <= 1.2x at 100,000.
"""

from __future__ import annotations

import functools
import statistics
import time
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from apps.audit.services import SystemActor
from apps.players.models import Player
from apps.responsible.services import limit_set
from apps.wallet import rollups
from apps.wallet.posting import wallet_bet
from bench.players import ensure_players
from bench.timing import fmt, per_call
from bench.wallet import _funded_players

SIZES = (0, 10_000, 100_000)
ROUNDS = 5
BETS_PER_ROUND = 300
OLD_USAGE = """
    SELECT coalesce(sum(CASE type WHEN 'bet' THEN amount WHEN 'rollback' THEN -amount END)
                    FILTER (WHERE created_at >= %s), 0)
    FROM wallet_transaction WHERE player_id = %s AND created_at >= %s
"""


def _month_start():  # type: ignore[no-untyped-def]
    return (
        timezone.now()
        .astimezone(timezone.get_default_timezone())
        .replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    )


def _bets_this_month(player_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM wallet_transaction WHERE player_id = %s AND type = 'bet' AND created_at >= %s",
            [player_id, _month_start()],
        )
        return int(cursor.fetchone()[0])


def _seed(player_id: int, wanted: int) -> None:
    """Top the player's bets this month up to ``wanted`` (0.01 each, a few minutes ago), with their entries."""
    missing = wanted - _bets_this_month(player_id)
    if missing <= 0:
        return
    print(f"  seeding {missing:,} bets for player {player_id} (once a month)...", flush=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, kind FROM wallet_account WHERE player_id = %s AND currency = 'GBP' ORDER BY id FOR UPDATE",
            [player_id],
        )
        accounts = {kind: pk for pk, kind in cursor.fetchall()}
        cursor.execute("SELECT id FROM wallet_account WHERE player_id IS NULL AND kind = 'house' AND currency = 'GBP'")
        house = cursor.fetchone()[0]
        cursor.execute(
            """
            WITH t AS (
                INSERT INTO wallet_transaction (type, player_id, currency, amount, created_at, api_client, reference,
                    round_id, game_id, game_category, provider, payment_method, instrument_fingerprint, staff_actor,
                    reason)
                SELECT 'bet', %s, 'GBP', 0.01, now() - interval '5 minutes', '', '', 'bench-fill-' || g, '', 'table',
                       '', '', '', '', ''
                FROM generate_series(1, %s) g RETURNING id, created_at
            )
            INSERT INTO wallet_entry (transaction_id, account_id, amount, currency, created_at)
            SELECT t.id, a.account_id, a.amount, 'GBP', t.created_at
            FROM t, (VALUES (%s::bigint, -0.01::numeric), (%s::bigint, 0.01::numeric)) AS a(account_id, amount)
            """,
            [player_id, missing, accounts["cash"], house],
        )
        cursor.execute(
            "UPDATE wallet_account SET balance = balance - %s WHERE id = %s",
            [Decimal("0.01") * missing, accounts["cash"]],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE wallet_transaction")
        cursor.execute("ANALYZE wallet_entry")
    rollups.rebuild_players([(player_id, rollups.zone_for("GB", "", None, timezone.now()))])


def run() -> None:
    ensure_players()
    funded = _funded_players()
    chosen = funded[-len(SIZES) :]  # the last funded players: the other benchmarks bet on all of them at random
    for player, size in zip(chosen, SIZES, strict=True):
        limit_set(actor=SystemActor("bench"), player=player, kind="wager", period="month", value="100000000.00")
        _seed(player.pk, size)
    run_id = f"ru{int(time.time())}"
    timings: dict[int, list[float]] = {size: [] for size in SIZES}
    counter = [0]

    def one_bet(player: Player) -> None:
        counter[0] += 1
        wallet_bet(
            player=player,
            amount=Decimal("0.01"),
            currency="GBP",
            round_id=f"{run_id}-{counter[0]}",
            game_category="table",
        )

    for player in chosen:  # warm
        for _ in range(50):
            one_bet(player)
    for _ in range(ROUNDS):
        for player, size in zip(chosen, SIZES, strict=True):
            timings[size].append(per_call(functools.partial(one_bet, player), n=BETS_PER_ROUND, repeats=1))
    old: dict[int, float] = {}
    start = _month_start()
    for player, size in zip(chosen, SIZES, strict=True):

        def old_usage(pid: int = player.pk) -> None:
            with connection.cursor() as cursor:
                cursor.execute(OLD_USAGE, [start, pid, start])
                cursor.fetchone()

        old[size] = per_call(old_usage, n=20, repeats=3)
    base = statistics.median(timings[0])
    print(
        f"\n== rollups: a bet with a monthly wager limit as the period fills ({ROUNDS} rounds of {BETS_PER_ROUND}) =="
    )
    for size in SIZES:
        mine = statistics.median(timings[size])
        print(
            f"  {size:>7,} bets already this month: {fmt(mine)} a bet  {mine / base:4.2f}x   "
            f"(the old ledger sum alone: {fmt(old[size])}, {old[size] / old[0]:6.1f}x)"
        )
    print(f"  goal <= 1.2x at 100,000: {statistics.median(timings[100_000]) / base:.2f}x")
