"""The default cache: django-redis that serves a Redis outage as misses instead of raising.

Everything kept in the default cache can be rebuilt from the database (verified API keys, register answers), so
while Redis is down (apps.core.degradation.redis is open) a read is a miss, a write is dropped and a delete is
remembered: the deletes a process could not make are made when Redis answers again, first thing, so a revoked
key's entry written before the outage cannot come back with it (best effort: a process that dies meanwhile
forgets them; the entry's own TTL still ends it). Counters (``incr``) still raise: a caller that counts decides
what an outage means for it. The staff login lockout uses the strict ``lockout`` alias instead (it fails
closed, see docs/RELIABILITY.md).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from django_redis.cache import RedisCache

from apps.core import degradation

_MAX_PENDING_DELETES = 10_000


class DegradingRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._pending_deletes: set[str] = set()
        self._pending_lock = threading.Lock()
        degradation.on_recovery("redis", self._replay_deletes)

    def _degrading(self, method: Any, fallback: Any, *args: Any, **kwargs: Any) -> Any:
        return degradation.redis.call(lambda: method(*args, **kwargs), lambda: fallback, degradation.redis_errors())

    def get(self, key: Any, default: Any = None, version: int | None = None, client: Any = None) -> Any:
        return self._degrading(super().get, default, key, default=default, version=version, client=client)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._degrading(super().get_many, {}, *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._degrading(super().has_key, False, *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._degrading(super().set, False, *args, **kwargs)

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._degrading(super().add, False, *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._degrading(super().set_many, [], *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._degrading(super().touch, False, *args, **kwargs)

    def delete(self, key: Any, version: int | None = None, prefix: str | None = None, client: Any = None) -> Any:
        deleted = self._degrading(super().delete, None, key, version=version, prefix=prefix, client=client)
        if deleted is None:
            self._remember_deletes([self.make_and_validate_key(key, version=version)])
            return False
        return deleted

    def delete_many(self, keys: Iterable[Any], version: int | None = None, client: Any = None) -> Any:
        keys = list(keys)
        deleted = self._degrading(super().delete_many, None, keys, version=version, client=client)
        if deleted is None:
            self._remember_deletes([self.make_and_validate_key(key, version=version) for key in keys])
            return 0
        return deleted

    def _remember_deletes(self, keys: list[str]) -> None:
        with self._pending_lock:
            if len(self._pending_deletes) + len(keys) <= _MAX_PENDING_DELETES:
                self._pending_deletes.update(keys)

    def _replay_deletes(self) -> None:
        with self._pending_lock:
            keys, self._pending_deletes = list(self._pending_deletes), set()
        if not keys:
            return
        try:
            self.client.get_client(write=True).delete(*keys)  # made keys: no prefix or version again
        except degradation.redis_errors():
            # kept for the next recovery; the call that runs this still tries its own command, which fails (and
            # keeps the breaker open) if Redis is still down
            self._remember_deletes(keys)
