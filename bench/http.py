"""Shared by the HTTP benchmarks: gunicorn as `make run` starts it, and wrk (Debian's) on loopback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATION = os.environ.get("BENCH_WRK_DURATION", "10s")
THREADS, CONNECTIONS = 2, 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# gunicorn sync workers; each blocks while its request waits on PostgreSQL, so a write path that waits on a
# COMMIT's WAL flush needs more processes than cores to keep both cores busy (gunicorn's own advice: 2n+1).
WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", os.environ.get("WEB_CONCURRENCY", "4")))


def start_gunicorn(port: int) -> subprocess.Popen[bytes]:
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
        [str(gunicorn), "backoffice.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)],
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


def wrk(
    port: int,
    path: str,
    players: int,
    key: str,
    delay_ms: float = 0,
    *,
    script: Path | None = None,
    duration: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> dict[str, float]:
    """One wrk run; returns req/s, p50/p90/p99 in ms, non-2xx and socket error counts."""
    env = {
        **os.environ,
        "BENCH_KEY": key,
        "BENCH_PLAYERS": str(players),
        "BENCH_PATH": path,
        "BENCH_DELAY_MS": f"{delay_ms:.3f}",
        **(extra_env or {}),
    }
    lua = script or Path(__file__).with_name("wrk_random_player.lua")
    out = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{duration or DURATION}",
            "--latency",
            "-s",
            str(lua),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        if m:
            result[f"p{pct}"] = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["errors"] = float(errors.group(1)) if errors else 0.0
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = float(sum(int(g) for g in sockets.groups())) if sockets else 0.0
    return result


def at_rate(
    port: int, path: str, players: int, key: str, *, target: float, first_latency: float, **kwargs: object
) -> dict[str, float]:
    """wrk has no rate option: give each connection a think time so that together they offer ``target``.

    A connection's cycle is think time + latency, so ``rps = CONNECTIONS * 1000 / (delay + latency)``. Latency
    falls as the load falls, so one correction overshoots: short probes find the think time (a first step from
    the formula, then the secant through the last two probes), and one full-length run at that think time is
    what is reported.
    """
    delay = max(0.0, CONNECTIONS * 1000 / target - first_latency)
    probes: list[tuple[float, float]] = []  # (think time, rate)
    probe_kwargs = {k: v for k, v in kwargs.items() if k != "duration"}
    for _ in range(6):
        rate = wrk(port, path, players, key, delay_ms=delay, duration="4s", **probe_kwargs)["rps"]  # type: ignore[arg-type]
        probes.append((delay, rate))
        if abs(rate / target - 1) < 0.03 or (delay == 0 and rate < target):
            break  # close enough, or the target is beyond the peak
        if len(probes) >= 2 and probes[-1][1] != probes[-2][1]:
            (d0, r0), (d1, r1) = probes[-2], probes[-1]
            delay = d1 + (target - r1) * (d1 - d0) / (r1 - r0)
        else:
            cycle = CONNECTIONS * 1000 / rate
            delay = delay + cycle * (rate / target - 1)
        delay = max(0.0, delay)
    result = wrk(port, path, players, key, delay_ms=delay, **kwargs)  # type: ignore[arg-type]
    result["delay_ms"] = delay
    return result
