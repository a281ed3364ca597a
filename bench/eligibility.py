"""Eligibility over HTTP at a million players, against the floor of any correct check.

gunicorn runs as ``make run`` starts it (``manage.py serve`` settings: 2 sync workers, the base settings,
JSON request logging on). wrk (Debian's) drives it from loopback: 2 threads, 16 connections, 10 s a run.

* floor: ``/bench/floor``, a bare Django view that runs ``SELECT 1`` and returns constant JSON;
* eligibility: ``GET /api/v1/players/<random demo player>/eligibility/?action=bet&ip=81.2.69.160``, with an
  API key, the scope check, the throttle, logging and every rule in force;
* eligibility at 80% of its measured peak (wrk's per-request delay), for the p99.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from apps.api.scopes import Scope
from apps.api.services import api_client_create
from apps.audit.services import SystemActor
from bench.players import ensure_players

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).with_name("wrk_random_player.lua")
DURATION = os.environ.get("BENCH_WRK_DURATION", "10s")
THREADS, CONNECTIONS = 2, 16


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_gunicorn(port: int) -> subprocess.Popen[bytes]:
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.base",
        "PITBOSS_IGNORE_DOTENV": "1",
        "SECRET_KEY": "bench-only-secret-key-0123456789-0123456789-0123456789",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db['NAME']}",
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/12",
        "BENCH_FLOOR_ENDPOINT": "1",
        "LOG_LEVEL": "INFO",
        "API_DEFAULT_THROTTLE_RATE": "100000000/min",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "backoffice.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def _wrk(port: int, path: str, players: int, key: str, delay_ms: float = 0) -> dict[str, float]:
    env = {
        **os.environ,
        "BENCH_KEY": key,
        "BENCH_PLAYERS": str(players),
        "BENCH_PATH": path,
        "BENCH_DELAY_MS": f"{delay_ms:.3f}",
    }
    out = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{DURATION}",
            "--latency",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        if m:
            result[f"p{pct}"] = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["errors"] = float(errors.group(1)) if errors else 0.0
    return result


def _at_rate(port: int, path: str, players: int, key: str, *, target: float, first_latency: float) -> dict[str, float]:
    """wrk has no rate option: give each connection a think time so that together they offer ``target``.

    A connection's cycle is think time + latency, so ``rps = CONNECTIONS * 1000 / (delay + latency)``; the
    latency at the lower load is not known in advance, so measure, correct the think time, and measure again.
    """
    latency = first_latency
    result: dict[str, float] = {}
    for _ in range(3):
        delay = max(0.0, CONNECTIONS * 1000 / target - latency)
        result = _wrk(port, path, players, key, delay_ms=delay)
        if abs(result["rps"] / target - 1) < 0.05:
            break
        latency = max(0.0, CONNECTIONS * 1000 / result["rps"] - delay)
    return result


def run() -> None:
    if shutil.which("wrk") is None:
        print("\n== eligibility: skipped, wrk is not installed (make bench installs Debian's wrk) ==")
        return
    players = ensure_players()
    _client, key = api_client_create(actor=SystemActor("bench"), name="bench eligibility", scopes=[Scope.PLAYERS_READ])
    port = _free_port()
    server = _start_gunicorn(port)
    try:
        eligibility = "/api/v1/players/demo-%07d/eligibility/?action=bet&ip=81.2.69.160"
        _wrk(port, "/bench/floor", players, key)  # warm-up: connections, pools, rule snapshot
        _wrk(port, eligibility, players, key)
        floor = _wrk(port, "/bench/floor", players, key)
        peak = _wrk(port, eligibility, players, key)
        at80 = _at_rate(port, eligibility, players, key, target=0.8 * peak["rps"], first_latency=peak.get("p50", 0))
    finally:
        server.terminate()
        server.wait(timeout=15)
    print(
        f"\n== eligibility over HTTP: {players:,} players, gunicorn 2 workers, wrk -t{THREADS} -c{CONNECTIONS} "
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
