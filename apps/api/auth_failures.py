"""Failed authentication, throttled by client address, across every worker.

Every invalid key adds one to a fixed-window counter in Redis per address (one INCR and EXPIRE, on the failure
path only). Once the count passes ``API_AUTH_FAILURE_RATE``, the process that saw it remembers the address as
blocked until the window ends and answers 429 to every request from it, valid key or not, before verifying
anything: a guesser cannot tell a hit from a miss. Every worker that sees one more failure from the address
learns the block from the counter. A request from an address that is not blocked pays one dict lookup.

While Redis is down (apps.core.degradation) each process counts the failures it sees itself and blocks past the
same rate: a guesser spread over N worker processes gets up to N times the rate until Redis returns.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection

from apps.api.rates import parse_rate
from apps.core import degradation

_blocked: dict[str, float] = {}  # address -> when its block ends (time.time(), the clock of the Redis windows)
_BLOCKED_MAX_ENTRIES = 4096
_local_counts: dict[str, int] = {}  # window key -> failures this process saw while Redis was down


def auth_blocked_for(ip: str | None) -> float | None:
    """Seconds left of this address's block, or None."""
    until = _blocked.get(ip or "")
    if until is None:
        return None
    left = until - time.time()
    if left <= 0:
        _blocked.pop(ip or "", None)
        return None
    return left


def auth_failed(ip: str | None) -> float | None:
    """Count a failed authentication from ``ip``; the seconds to wait if that took it past the rate, else None."""
    limit, duration = parse_rate(settings.API_AUTH_FAILURE_RATE)
    now = time.time()
    number = int(now // duration)
    key = cache.make_key(f"authfail:{ip or '-'}:{duration}:{number}")  # type: ignore[attr-defined]

    def shared() -> int:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, duration + 1, nx=True)
        return int(pipe.execute()[0])

    def local() -> int:
        if key not in _local_counts and len(_local_counts) >= _BLOCKED_MAX_ENTRIES:
            _local_counts.clear()  # old windows' keys go too
        _local_counts[key] = _local_counts.get(key, 0) + 1
        return _local_counts[key]

    count = degradation.redis.call(shared, local, degradation.redis_errors())
    if count <= limit:
        return None
    wait = (number + 1) * duration - now
    if len(_blocked) >= _BLOCKED_MAX_ENTRIES:
        _blocked.clear()  # bounded, like the key cache; the Redis counter still refuses on the next failure
    _blocked[ip or ""] = now + wait
    return wait


def reset_auth_blocks() -> None:
    """Forget this process's blocked addresses (tests)."""
    _blocked.clear()
    _local_counts.clear()
