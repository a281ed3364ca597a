"""Per-client request rate, counted in Redis across every worker, without a Redis round trip per request.

A fixed window per client. Each process counts locally and adds its count to the shared Redis counter
(INCRBY and EXPIRE in one pipeline) every ``SYNC_EVERY`` requests or when the window turns, reading back the
global total. A request is refused when the last known global total plus the unsynced local count exceeds
the rate. The error is bounded: at most ``SYNC_EVERY - 1`` requests per process above the rate, and a burst of
up to twice the rate across a window boundary. The rate is a guard against runaway clients, not a meter.

While Redis is down (apps.core.degradation) the throttle fails open to a per-process limit: each process keeps
counting its window locally and refuses past the rate on its own count (plus the global total it last knew), so
a client gets up to the rate once per worker process. The local count is added to Redis at the first sync after
it returns.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.api.authentication import ClientIdentity
from apps.api.rates import parse_rate
from apps.core import degradation

SYNC_EVERY = 10


@dataclass
class _Window:
    key: str
    known_total: int = 0  # the global count as of the last sync
    unsynced: int = 0


_windows: dict[str, _Window] = {}
_lock = threading.Lock()


def _sync(window: _Window, duration: int) -> None:
    """Add the local count to the shared one; without Redis, keep counting locally (the fallback)."""

    def add() -> None:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        pipe.incrby(window.key, window.unsynced)
        pipe.expire(window.key, duration + 1, nx=True)
        window.known_total = int(pipe.execute()[0])
        window.unsynced = 0

    degradation.redis.call(add, lambda: None, degradation.redis_errors())


def reset_local_counts() -> None:
    """Forget this process's unsynced counts (tests)."""
    with _lock:
        _windows.clear()


class ApiClientRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        client = request.auth
        if not isinstance(client, ClientIdentity):
            return True  # unauthenticated requests are refused before they cost anything
        limit, duration = parse_rate(client.throttle_rate or settings.API_DEFAULT_THROTTLE_RATE)
        now = time.time()
        number = int(now // duration)
        key = cache.make_key(f"throttle:{client.prefix}:{duration}:{number}")  # type: ignore[attr-defined]
        sync_every = min(SYNC_EVERY, max(1, limit // 100))  # small rates are counted exactly
        with _lock:
            window = _windows.get(client.prefix)
            if window is None or window.key != key:
                window = _windows[client.prefix] = _Window(key=key)
            window.unsynced += 1
            if window.unsynced >= sync_every or (window.known_total == 0 and not degradation.redis.is_open):
                _sync(window, duration)
            total = window.known_total + window.unsynced
        if total > limit:
            self._wait = (number + 1) * duration - now
            return False
        return True

    def wait(self) -> float | None:
        return self._wait
