"""Failed authentication, throttled by client address, across every worker.

Every invalid key adds one to a fixed-window counter in Redis per address (one INCR and EXPIRE, on the failure
path only). Once the count passes ``API_AUTH_FAILURE_RATE``, the process that saw it remembers the address as
blocked until the window ends and answers 429 to every request from it, valid key or not, before verifying
anything: a guesser cannot tell a hit from a miss. Every worker that sees one more failure from the address
learns the block from the counter. A request from an address that is not blocked pays one dict lookup.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection

from apps.api.rates import parse_rate

_blocked: dict[str, float] = {}  # address -> when its block ends (time.time(), the clock of the Redis windows)
_BLOCKED_MAX_ENTRIES = 4096


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
    pipe = get_redis_connection("default").pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, duration + 1, nx=True)
    count = int(pipe.execute()[0])
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
