"""Eligibility over HTTP at a million players, against the floor of any correct check.

gunicorn runs as ``make run`` starts it (``manage.py serve`` settings: 2 sync workers, the base settings,
JSON request logging on). wrk (Debian's) drives it from loopback: 2 threads, 16 connections, 10 s a run.

* floor: ``/api/v1/bench/floor``, a bare Django view that runs ``SELECT 1`` and returns constant JSON;
* eligibility: ``GET /api/v1/players/<random demo player>/eligibility/?action=bet&ip=81.2.69.160``, with an
  API key, the scope check, the throttle, logging and every rule in force;
* eligibility at 80% of its measured peak (wrk's per-request delay), for the p99.
"""

from __future__ import annotations

import shutil

from apps.api.scopes import Scope
from apps.api.services import api_client_create
from apps.audit.services import SystemActor
from apps.players.demo import demo_brand
from bench.http import CONNECTIONS, DURATION, THREADS, WORKERS, at_rate, free_port, start_gunicorn, wrk
from bench.players import ensure_players


def run() -> None:
    if shutil.which("wrk") is None:
        print("\n== eligibility: skipped, wrk is not installed (make bench installs Debian's wrk) ==")
        return
    players = ensure_players()
    _client, key = api_client_create(
        actor=SystemActor("bench"), name="bench eligibility", scopes=[Scope.PLAYERS_READ], brands=[demo_brand()]
    )
    port = free_port()
    server = start_gunicorn(port)
    try:
        eligibility = "/api/v1/players/demo-%07d/eligibility/?action=bet&ip=81.2.69.160"
        wrk(port, "/api/v1/bench/floor", players, key)  # warm-up: connections, pools, rule snapshot
        wrk(port, eligibility, players, key)
        floor = wrk(port, "/api/v1/bench/floor", players, key)
        peak = wrk(port, eligibility, players, key)
        at80 = at_rate(port, eligibility, players, key, target=0.8 * peak["rps"], first_latency=peak.get("p50", 0))
    finally:
        server.terminate()
        server.wait(timeout=15)
    print(
        f"\n== eligibility over HTTP: {players:,} players, gunicorn {WORKERS} workers, wrk -t{THREADS} -c{CONNECTIONS} "
        f"-d{DURATION} =="
    )
    for label, r in (
        ("floor: SELECT 1 view (baseline)", floor),
        ("eligibility, peak", peak),
        ("eligibility, ~80% of peak", at80),
    ):
        print(
            f"  {label:<34} {r['rps']:8.0f} req/s  {r['rps'] / floor['rps']:5.2f}x floor   "
            f"p50 {r.get('p50', 0):6.2f} ms  p99 {r.get('p99', 0):6.2f} ms  non-2xx {r['errors']:.0f}"
        )
    ratio = peak["rps"] / floor["rps"]
    print(
        f"  goal: >= 0.50x floor (stretch 0.75x): {ratio:.2f}x; p99 at ~80% of peak <= 25 ms: "
        f"{at80.get('p99', 0):.2f} ms at {at80['rps'] / peak['rps']:.0%} of peak"
    )
