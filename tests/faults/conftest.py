"""The fault tests run against their own private stack (tests/faults/stack.py), never the suite's database or
Redis: they need no django_db, and the suite's autouse fixtures that touch the test settings, the register
sandbox or the suite's cache are replaced here by ones that do nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.stack import Stack, missing_binaries, private_stack


@pytest.fixture(autouse=True)
def registers() -> None:
    """The suite's register sandbox is not needed: the private stack has no registers configured."""


@pytest.fixture(autouse=True)
def _audit_checkpoints() -> None:
    """The private stack writes its checkpoints in its own folder (AUDIT_CHECKPOINT_DIR in its environment)."""


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """The private stack has its own redis-server; the suite's cache is not touched."""
    yield


@pytest.fixture(scope="session")
def fault_stack() -> Iterator[Stack]:
    reason = missing_binaries()
    if reason:
        pytest.skip(reason)
    with private_stack() as stack:
        yield stack


@pytest.fixture
def stack(fault_stack: Stack) -> Iterator[Stack]:
    """The session's stack, healed of whatever an earlier test left broken."""
    fault_stack.heal()
    yield fault_stack
