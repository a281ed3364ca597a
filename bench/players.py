"""The million players the eligibility and changelist benchmarks run on (seeded once, kept)."""

from __future__ import annotations

import os
import time

from apps.audit.services import SystemActor
from apps.players.demo import demo_player_count, seed_players, vacuum_players


def ensure_players() -> int:
    wanted = int(os.environ.get("BENCH_PLAYERS", "1000000"))
    have = demo_player_count()
    if have < wanted:
        print(f"seeding {wanted - have:,} players (once; kept in the bench database)...", flush=True)
        started = time.perf_counter()
        seed_players(wanted, actor=SystemActor("bench"))
        vacuum_players()
        print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    from apps.kyc.demo import seed_levels

    profiles, _ = seed_levels()  # idempotent: players seeded before KYC existed get their levels once
    if profiles:
        print(f"  KYC levels given to {profiles:,} players", flush=True)
    return wanted
