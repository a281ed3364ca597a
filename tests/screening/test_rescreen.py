"""Re-screening after a list changes: an entry added hits an existing player; an entry removed closes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from apps.audit.services import SystemActor
from apps.screening.errors import ListMissing
from apps.screening.imports import import_list
from apps.screening.models import HitState, ScreeningHit
from apps.screening.rescreen import ChunkResult, rescreen_chunk
from tests.factories import PlayerFactory
from tests.screening.samples import SDN

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("test re-screen")
OLGA = (
    b'104,"SMIRNOVA, Olga Ivanovna","individual","RUSSIA-EO14024",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    b'"DOB 12 Mar 1971."\r\n'
)


def test_an_entry_added_hits_an_existing_player_and_a_removal_closes_nothing() -> None:
    import_list(fmt="ofac_sdn", data=SDN, file_name="sdn.csv")
    olga = PlayerFactory(first_name="Olga", last_name="Smirnova", date_of_birth=date(1971, 3, 12))
    others = [PlayerFactory() for _ in range(4)]
    assert rescreen_chunk(actor=ACTOR).with_hits == 0

    (added,) = import_list(fmt="ofac_sdn", data=SDN.replace(b"\x1a", OLGA + b"\x1a"), file_name="sdn.csv")
    assert added.added == ["104"] and added.snapshot is not None
    # in chunks of two, resumed from the last id, against the change only
    after, screened, hits = 0, 0, 0
    while True:
        chunk = rescreen_chunk(after_id=after, size=2, actor=ACTOR, snapshot_id=added.snapshot.pk)
        screened += chunk.screened
        hits += chunk.with_hits
        if chunk.last_id is None:
            break
        after = chunk.last_id
    assert (screened, hits) == (1 + len(others), 1)
    (hit,) = ScreeningHit.objects.all()
    assert (hit.player_id, hit.entry_id, hit.state) == (olga.pk, "104", HitState.OPEN)

    (removed,) = import_list(fmt="ofac_sdn", data=SDN, file_name="sdn.csv")
    assert removed.removed == ["104"] and removed.snapshot is not None
    assert rescreen_chunk(actor=ACTOR, snapshot_id=removed.snapshot.pk) == ChunkResult(None, 0, 0)  # nothing
    assert rescreen_chunk(actor=ACTOR).with_hits == 0  # the full one: no match any more ...
    assert ScreeningHit.objects.get(pk=hit.pk).state == HitState.OPEN  # ... and the open hit stays for a human


def test_a_full_rescreen_without_a_list_fails_closed() -> None:
    PlayerFactory()
    with pytest.raises(ListMissing):
        rescreen_chunk(actor=ACTOR)
