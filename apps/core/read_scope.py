"""A read scope: reads shared by the parts of one page render (e.g. the player page), keyed by what they read.

Outside a scope ``scoped`` always computes: the API and every write path read fresh, as before. Inside one (a
``with read_scope():`` around a page's context), the same read with the same key is made once. A scope is for
reads of one moment that nothing in the scope writes to; it ends with the block (a context variable, so it never
leaks into another request or thread).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_scope: ContextVar[dict[Hashable, Any] | None] = ContextVar("pitboss_read_scope", default=None)


@contextmanager
def read_scope() -> Iterator[None]:
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def in_scope() -> bool:
    return _scope.get() is not None


def scoped(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, once per ``key`` inside a read scope; every time outside one. Callers copy what they change."""
    memo = _scope.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]
