"""The screening screens (AML Analysts, the MLRO): the hits with their review page, the watchlists, snapshots and
entries, the list import, the re-screen's progress and the batch screening of a customer file. Every write goes
through apps.screening's services (a hit's review through apps.screening.wiring); nothing of it answers staff
without a ``screening.*`` permission (the tipping-off wall: 403 on the lists, 404 on a hit)."""

from __future__ import annotations

from apps.screening.admin.hits import ScreeningHitAdmin
from apps.screening.admin.lists import ListEntryAdmin, ListSnapshotAdmin, WatchListAdmin

__all__ = ["ListEntryAdmin", "ListSnapshotAdmin", "ScreeningHitAdmin", "WatchListAdmin"]
