"""Per-client request rate on the shared Redis: one round trip per request.

A fixed window (INCR and EXPIRE in one pipeline) rather than DRF's sliding window (GET, then SET of a list of
timestamps: two round trips, and racy between workers). A client can burst up to twice its rate across a
window boundary; the rate is a guard against runaway clients, not a billing meter.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.api.authentication import ClientIdentity

_DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    return int(count), _DURATIONS[period[0]]


class ApiClientRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        client = request.auth
        if not isinstance(client, ClientIdentity):
            return True  # unauthenticated requests are refused before they cost anything
        limit, duration = parse_rate(client.throttle_rate or settings.API_DEFAULT_THROTTLE_RATE)
        now = time.time()
        window = int(now // duration)
        key = cache.make_key(f"throttle:{client.prefix}:{duration}:{window}")  # type: ignore[attr-defined]
        pipe = get_redis_connection("default").pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, duration + 1, nx=True)
        count = pipe.execute()[0]
        if count > limit:
            self._wait = (window + 1) * duration - now
            return False
        return True

    def wait(self) -> float | None:
        return self._wait
