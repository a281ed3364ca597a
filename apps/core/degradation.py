"""Serving through a dependency outage: what this process does when Redis, PostgreSQL or the broker fails.

Redis is a cache here, never a source of truth. Each process keeps one ``Breaker`` for it: the first connection
error opens it, and for ``REDIS_RETRY_SECONDS`` every cached read is a miss and every write a no-op without
touching the network (a blackholed Redis would otherwise cost ``SOCKET_TIMEOUT`` per call, per request). Then one
call tries again; success closes the breaker. Callers that count (the throttle, failed-key counting) count in the
process meanwhile. The outage is logged when it starts, then at most once per ``DEGRADATION_LOG_SECONDS`` with
the number of calls served without Redis, and when it ends; /metrics shows it (apps/core/metrics.py).

PostgreSQL, a Redis that a request cannot do without, and the broker: ``outage_of`` names the dependency an
exception comes from, and the error handlers answer 503 ``service_unavailable`` with ``Retry-After`` instead of
500 (apps/api/exceptions.py, backoffice/errors.py). docs/RELIABILITY.md has the trade-offs.
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from collections.abc import Callable
from typing import TypeVar

import structlog
from django.conf import settings

log = structlog.get_logger(__name__)

T = TypeVar("T")


class Breaker:
    """Per-process state of one dependency: closed (use it) or open until ``retry_at`` (do not)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self.retry_at = 0.0  # time.monotonic() before which the dependency is not tried; 0: closed
        self.down_since: float | None = None  # time.time() of the first failure of the current outage
        self.outages = 0  # outages seen by this process
        self.degraded_calls = 0  # calls answered without the dependency, since the process started
        self._logged_at = 0.0
        self._logged_calls = 0

    @property
    def is_open(self) -> bool:
        return self.down_since is not None

    def available(self) -> bool:
        """Whether to try the dependency now (closed, or open and due for a retry)."""
        if self.down_since is None:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self.retry_at:
                self.degraded_calls += 1
                self._maybe_log(now)
                return False
            self.retry_at = now + _retry_seconds()  # one caller retries; the others wait for its verdict
            return True

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            now = time.monotonic()
            self.retry_at = now + _retry_seconds()
            self.degraded_calls += 1
            if self.down_since is None:
                self.down_since = time.time()
                self.outages += 1
                self._logged_at, self._logged_calls = now, self.degraded_calls
                log.warning(
                    "dependency_degraded",
                    dependency=self.name,
                    error=f"{type(exc).__name__}: {exc}"[:300],
                    retry_seconds=_retry_seconds(),
                )
            else:
                self._maybe_log(now, exc)

    def succeeded(self) -> None:
        if self.down_since is None:
            return
        with self._lock:
            if self.down_since is None:
                return
            log.warning(
                "dependency_recovered",
                dependency=self.name,
                down_seconds=round(time.time() - self.down_since, 3),
                degraded_calls=self.degraded_calls - self._logged_calls,
            )
            self.down_since = None
            self.retry_at = 0.0

    def call(self, fn: Callable[[], T], fallback: Callable[[], T], errors: tuple[type[BaseException], ...]) -> T:
        """``fn()``, or ``fallback()`` when the dependency is known down or ``fn`` fails with one of ``errors``.

        The first call that reaches the dependency again runs the recovery listeners first (the cache's missed
        deletes), so nothing it reads predates them."""
        if not self.available():
            return fallback()
        try:
            if self.is_open:
                for listener in _listeners(self.name):
                    listener()
            result = fn()
        except errors as exc:
            self.failed(exc)
            return fallback()
        self.succeeded()
        return result

    def _maybe_log(self, now: float, exc: BaseException | None = None) -> None:
        if now - self._logged_at < settings.DEGRADATION_LOG_SECONDS:
            return
        log.warning(
            "dependency_still_degraded",
            dependency=self.name,
            down_seconds=round(time.time() - (self.down_since or time.time()), 3),
            degraded_calls=self.degraded_calls - self._logged_calls,
            error=f"{type(exc).__name__}: {exc}"[:300] if exc is not None else None,
        )
        self._logged_at, self._logged_calls = now, self.degraded_calls

    def reset(self) -> None:
        """Forget the state (tests)."""
        with self._lock:
            self.retry_at, self.down_since = 0.0, None


def _retry_seconds() -> float:
    return float(settings.REDIS_RETRY_SECONDS)


_on_recovery: dict[str, list[weakref.WeakMethod[Callable[[], None]]]] = {}


def on_recovery(name: str, listener: Callable[[], None]) -> None:
    """Call the bound method ``listener`` before the first call that reaches dependency ``name`` after an outage
    (in the request that makes it); it must not raise. Held weakly: a cache built again after
    a settings change drops its predecessor's."""
    _on_recovery.setdefault(name, []).append(weakref.WeakMethod(listener))  # type: ignore[arg-type]


def _listeners(name: str) -> list[Callable[[], None]]:
    alive = [listener for ref in _on_recovery.get(name, ()) if (listener := ref()) is not None]
    if len(alive) != len(_on_recovery.get(name, ())):
        _on_recovery[name] = [weakref.WeakMethod(listener) for listener in alive]  # type: ignore[arg-type]
    return alive


redis = Breaker("redis")
BREAKERS = {"redis": redis}


@functools.cache
def redis_errors() -> tuple[type[BaseException], ...]:
    """What a Redis client raises when the server cannot be reached or stops answering."""
    from redis import exceptions

    return (exceptions.ConnectionError, exceptions.TimeoutError, exceptions.BusyLoadingError, OSError)


# OUTAGES: which dependency an exception comes from -------------------------------------------------------------

# SQLSTATEs that mean "the database cannot do this now", not "your statement is wrong": the connection or the
# server is going away (class 08, 57P01-57P03), or the server refuses writes (25006, a read-only transaction).
_UNAVAILABLE_SQLSTATES = {"25006", "57P01", "57P02", "57P03", "53300"}


def outage_of(exc: BaseException | None) -> str | None:
    """``"database"``, ``"redis"`` or ``"broker"`` when ``exc`` says that dependency is unavailable, else None.

    A database error counts when it is an ``OperationalError``/``InterfaceError`` (no connection, a closed one,
    a pool that cannot hand one out in time) or carries one of the SQLSTATEs above; a constraint violation,
    bad data or a programming error stays a 4xx or a 500."""
    from django.db import InterfaceError, OperationalError

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OperationalError | InterfaceError):
            return "database"
        sqlstate = getattr(exc, "sqlstate", None)
        if isinstance(sqlstate, str) and (sqlstate in _UNAVAILABLE_SQLSTATES or sqlstate.startswith("08")):
            return "database"
        module = type(exc).__module__
        if module.startswith("psycopg") and _is_psycopg_unavailable(exc):
            return "database"
        if module.startswith(("kombu", "amqp", "celery.exceptions")) and _is_broker_error(exc):
            return "broker"
        if isinstance(exc, redis_errors()) and module.startswith("redis"):
            return "redis"
        exc = exc.__cause__  # what Django's and django-redis's wrappers raise from; never a handler's own bug
    return None


def _is_psycopg_unavailable(exc: BaseException) -> bool:
    import psycopg

    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def _is_broker_error(exc: BaseException) -> bool:
    from kombu.exceptions import OperationalError as KombuOperationalError

    return isinstance(exc, KombuOperationalError | ConnectionError | TimeoutError)


unavailable_answers: dict[str, int] = {}  # dependency -> 503s this process answered for it
_unavailable_logged: dict[str, tuple[float, int]] = {}  # dependency -> (when last logged, answers by then)
_unavailable_lock = threading.Lock()


def record_unavailable(dependency: str, exc: BaseException) -> None:
    """Count a 503 answered for ``dependency``; log it (with its traceback) at most once per
    ``DEGRADATION_LOG_SECONDS``, saying how many went unlogged since."""
    with _unavailable_lock:
        count = unavailable_answers[dependency] = unavailable_answers.get(dependency, 0) + 1
        now = time.monotonic()
        last = _unavailable_logged.get(dependency)
        if last is not None and now - last[0] < settings.DEGRADATION_LOG_SECONDS:
            return
        _unavailable_logged[dependency] = (now, count)
    log.warning(
        "dependency_unavailable",
        dependency=dependency,
        error=f"{type(exc).__name__}: {exc}"[:300],
        answered_503=count - (last[1] if last is not None else 0),
        exc_info=exc,
    )


def retry_after_seconds(dependency: str) -> int:
    """What ``Retry-After`` says for an outage of ``dependency``."""
    return int(settings.SERVICE_UNAVAILABLE_RETRY_AFTER.get(dependency, 5))
