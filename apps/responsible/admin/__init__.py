"""Staff screens for player protection, by domain: exclusions with the lift queue (maker-checker) and the
corrections' queue, limits and their changes, flags, interactions, register checks, the identity-change queue.
Every write calls a service; the reads the player page and the API share are in apps.responsible.selectors.

Importing this package (Django's admin autodiscovery) registers every screen."""

from __future__ import annotations

from apps.responsible.admin import (  # noqa: F401
    exclusions,
    identity,
    interactions,
    limits,
    player_panel,
    registers,
)
