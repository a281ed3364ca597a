"""Demo data and demo credentials for ``make run``, contributed by the apps. Never in production (``DEMO_TOOLS``
is off there and the commands refuse).

``core`` knows no app above it (docs/ARCHITECTURE.md, "Layers"): each app registers what it seeds and which
credentials it prints from its ``AppConfig.ready()``, and ``seed_demo`` / ``demo_access`` run them in order.

* ``register_seeder(name, seed, order=..., count=DemoCount(...))``: ``seed(actor=..., count=...)`` adds what is
  missing (idempotent) and returns the lines the command prints. A seeder with a ``DemoCount`` gets its own
  command option (``--players N``) and receives the number; the others receive ``count=None``.
* ``register_access(name, access, order=...)``: ``access(actor=...)`` makes fresh credentials and returns them
  as ``DemoCredentials`` (the lines to print, and the values for code and tests). All of them run in one
  transaction: a failure leaves the old credentials in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from django.db import transaction

from apps.audit.services import AuditActor


@dataclass(frozen=True)
class DemoCount:
    """A number of things a seeder tops up to, given on the command line as ``--<option> N``."""

    option: str
    default: int
    help: str


class Seed(Protocol):
    def __call__(self, *, actor: AuditActor | None, count: int | None) -> list[str]: ...


@dataclass(frozen=True)
class DemoCredentials:
    lines: list[str]
    values: dict[str, str] = field(default_factory=dict)


class Access(Protocol):
    def __call__(self, *, actor: AuditActor | None) -> DemoCredentials: ...


@dataclass(frozen=True)
class Seeder:
    name: str
    seed: Seed
    order: int
    count: DemoCount | None = None


@dataclass(frozen=True)
class AccessProvider:
    name: str
    access: Access
    order: int


_seeders: dict[str, Seeder] = {}
_access: dict[str, AccessProvider] = {}


def register_seeder(name: str, seed: Seed, *, order: int, count: DemoCount | None = None) -> None:
    """Register (or replace, by name) a demo seeder; lower ``order`` runs first."""
    if count is not None:
        taken = {s.count.option for s in _seeders.values() if s.count is not None and s.name != name}
        if count.option in taken:
            raise ValueError(f"demo seeder {name!r}: option --{count.option} is already another seeder's")
    _seeders[name] = Seeder(name, seed, order, count)


def register_access(name: str, access: Access, *, order: int) -> None:
    """Register (or replace, by name) a provider of demo credentials; lower ``order`` is printed first."""
    _access[name] = AccessProvider(name, access, order)


def seeders() -> list[Seeder]:
    return sorted(_seeders.values(), key=lambda s: (s.order, s.name))


def access_providers() -> list[AccessProvider]:
    return sorted(_access.values(), key=lambda a: (a.order, a.name))


def seed_demo(*, actor: AuditActor | None, counts: Mapping[str, int] | None = None) -> list[str]:
    """Run every seeder in order (each idempotent); ``counts`` by option name, the seeder's default otherwise.

    Not one transaction: a seeder may need to run outside one (players are loaded with COPY, then VACUUMed)."""
    counts = counts or {}
    lines: list[str] = []
    for seeder in seeders():
        count = None if seeder.count is None else counts.get(seeder.count.option, seeder.count.default)
        lines.extend(seeder.seed(actor=actor, count=count))
    return lines


@transaction.atomic
def demo_access(*, actor: AuditActor | None) -> DemoCredentials:
    """Fresh demo credentials from every provider, in order, in one transaction."""
    lines: list[str] = []
    values: dict[str, str] = {}
    for provider in access_providers():
        credentials = provider.access(actor=actor)
        lines.extend(credentials.lines)
        values.update(credentials.values)
    return DemoCredentials(lines=lines, values=values)
