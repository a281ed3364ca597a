"""Bets: the raw SQL floor (pgbench) against bets through the HTTP API (gunicorn + wrk), same run.

(a) pgbench runs, per transaction, what one bet does at the SQL level: lock the player's cash and bonus rows,
    update the balance, insert the transaction and its two entries (the deferred balance trigger fires at
    COMMIT), on random funded players.
(b) wrk posts bets to ``/api/v1/wallet/transactions/`` with unique Idempotency-Keys: authentication, scope,
    throttle, idempotency record, eligibility, locking, entries, balances, JSON.
Also: every bet on one player, and a sustained 500 bets/s for ``BENCH_SUSTAIN_SECONDS`` (60) with no error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection

from apps.api.scopes import Scope
from apps.api.services import api_client_create
from apps.audit.services import SystemActor
from apps.players.demo import demo_brand
from apps.players.models import Player
from apps.wallet.models import LedgerTransaction
from apps.wallet.posting import wallet_deposit
from bench.http import CONNECTIONS, DURATION, THREADS, WORKERS, at_rate, free_port, start_gunicorn, wrk
from bench.players import ensure_players

FUNDED = int(os.environ.get("BENCH_FUNDED_PLAYERS", "2000"))
SUSTAIN = os.environ.get("BENCH_SUSTAIN_SECONDS", "60")
LUA = Path(__file__).with_name("wrk_bets.lua")
# The player is found from an index, as the API finds it from the external id (one indexed lookup either way).
PGBENCH_SCRIPT = """
\\set i random(1, :n)
SELECT player_id AS pid FROM bench_funded WHERE i = :i \\gset
BEGIN;
SELECT id, balance FROM wallet_account WHERE player_id = :pid AND kind IN ('cash', 'bonus')
    ORDER BY id FOR UPDATE;
UPDATE wallet_account SET balance = balance - 0.10 WHERE player_id = :pid AND kind = 'cash';
INSERT INTO wallet_transaction (type, player_id, currency, amount, created_at, api_client, reference, round_id,
    game_id, game_category, provider, payment_method, instrument_fingerprint, staff_actor, reason)
    VALUES ('bet', :pid, 'GBP', 0.10, now(), 'pgbench', '', 'r', '', 'table', '', '', '', '', '')
    RETURNING id AS txn \\gset
INSERT INTO wallet_entry (transaction_id, account_id, amount, currency, created_at) VALUES
    (:txn, (SELECT id FROM wallet_account WHERE player_id = :pid AND kind = 'cash'), -0.10, 'GBP', now()),
    (:txn, (SELECT id FROM wallet_account WHERE player_id IS NULL AND kind = 'house' AND currency = 'GBP'),
     0.10, 'GBP', now());
COMMIT;
"""


def _funded_players() -> list[Player]:
    """GB demo players with a large cash balance (funded once, through the deposit service)."""
    players = list(  # verified: a level-0 GB player may not deposit (kyc_required)
        Player.objects.filter(external_id__startswith="demo-", country="GB", kyc__level__gte=2).order_by("id")[:FUNDED]
    )
    funded = set(
        LedgerTransaction.objects.filter(reference="bench-funding", player__in=players).values_list("player", flat=True)
    )
    todo = [p for p in players if p.pk not in funded]
    if todo:
        print(f"funding {len(todo):,} players (once)...", flush=True)
        for player in todo:
            wallet_deposit(player=player, amount=Decimal("1000000.00"), currency="GBP", reference="bench-funding")
    return players


def _pgbench(ids: list[int]) -> float:
    db = settings.DATABASES["default"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_funded (i int PRIMARY KEY, player_id bigint NOT NULL)")
        cursor.execute("TRUNCATE bench_funded")
        cursor.execute(
            "INSERT INTO bench_funded SELECT n, id FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(id, n)", [ids]
        )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PGBENCH_SCRIPT)
    seconds = int(re.sub(r"\D", "", DURATION) or 10)
    out = subprocess.run(
        [
            "pgbench",
            "-n",
            "-c",
            str(CONNECTIONS),
            "-j",
            str(THREADS),
            "-T",
            str(seconds),
            "-f",
            script.name,
            "-D",
            f"n={len(ids)}",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            db["NAME"],
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    os.unlink(script.name)
    return float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]


def run() -> None:
    if shutil.which("wrk") is None or shutil.which("pgbench") is None:
        print("\n== wallet: skipped, wrk or pgbench is missing ==")
        return
    ensure_players()
    players = _funded_players()
    ids = [p.pk for p in players]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("".join(f"{p.external_id} {p.currency}\n" for p in players))
    _client, key = api_client_create(
        actor=SystemActor("bench"),
        name="bench wallet",
        scopes=[Scope.WALLET_GAME, Scope.WALLET_PAYMENTS],
        throttle_rate="100000000/min",
        brands=[demo_brand()],  # the demo players' brand: any other player is a 404
    )
    raw = _pgbench(ids)
    port = free_port()
    server = start_gunicorn(port)
    env = {"BENCH_PLAYER_FILE": listing.name, "BENCH_RUN": f"r{int(time.time())}"}
    try:
        wrk(port, "", len(ids), key, script=LUA, duration="3s", extra_env={**env, "BENCH_RUN": env["BENCH_RUN"] + "w"})
        peak = wrk(port, "", len(ids), key, script=LUA, extra_env=env)
        one = wrk(
            port,
            "",
            1,
            key,
            script=LUA,
            extra_env={**env, "BENCH_ONE_PLAYER": "1", "BENCH_RUN": env["BENCH_RUN"] + "o"},
        )
        at80 = at_rate(
            port,
            "",
            len(ids),
            key,
            target=0.8 * peak["rps"],
            first_latency=peak.get("p50", 0),
            script=LUA,
            duration="5s",
            extra_env={**env, "BENCH_RUN": env["BENCH_RUN"] + "e"},
        )
        sustained = at_rate(
            port,
            "",
            len(ids),
            key,
            target=500.0,
            first_latency=peak.get("p50", 0),
            script=LUA,
            duration="5s",
            extra_env={**env, "BENCH_RUN": env["BENCH_RUN"] + "c"},
        )
        long_run = wrk(
            port,
            "",
            len(ids),
            key,
            sustained["delay_ms"],
            script=LUA,
            duration=f"{SUSTAIN}s",
            extra_env={**env, "BENCH_RUN": env["BENCH_RUN"] + "s"},
        )
    finally:
        server.terminate()
        server.wait(timeout=15)
        os.unlink(listing.name)
    print(f"\n== wallet bets: {len(ids):,} funded players, gunicorn {WORKERS} workers, wrk/pgbench -c{CONNECTIONS} ==")
    print(f"  {'raw SQL bet (pgbench, baseline)':<36} {raw:8.0f} tps   1.00x")
    for label, r in (
        ("API bets, random players, peak", peak),
        ("API bets, one player, peak", one),
        ("API bets, ~80% of peak", at80),
    ):
        print(
            f"  {label:<36} {r['rps']:8.0f} req/s {r['rps'] / raw:5.2f}x raw   p50 {r.get('p50', 0):6.2f} ms  "
            f"p99 {r.get('p99', 0):6.2f} ms  non-2xx {r['errors']:.0f}"
        )
    print(
        f"  goal API >= 0.15x raw (stretch 0.25x): {peak['rps'] / raw:.2f}x; one player >= 0.5x random: "
        f"{one['rps'] / peak['rps']:.2f}x; p99 at ~80% <= 50 ms: {at80.get('p99', 0):.1f} ms "
        f"({at80['rps'] / peak['rps']:.0%} of peak)"
    )
    errors = long_run["errors"] + long_run["socket_errors"]
    print(
        f"  sustained {SUSTAIN} s at {long_run['rps']:.0f} bets/s (target 500): non-2xx + socket errors = "
        f"{errors:.0f}, p99 {long_run.get('p99', 0):.1f} ms"
    )
