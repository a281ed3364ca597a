"""Age is counted on the jurisdiction's calendar: a birthday begins at local midnight, not UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from apps.players.eligibility import can
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db


def test_an_ontario_player_turns_19_at_midnight_in_toronto():
    player = PlayerFactory(country="CA", region="CA-ON", currency="CAD", date_of_birth=date(2007, 6, 15))
    # 02:00 UTC on the birthday is 22:00 the evening before in Toronto (EDT, UTC-4): still 18 there
    with time_machine.travel(datetime(2026, 6, 15, 2, 0, tzinfo=UTC), tick=False):
        assert "underage" in can(player, "login").reasons
    with time_machine.travel(datetime(2026, 6, 15, 4, 30, tzinfo=UTC), tick=False):  # 00:30 in Toronto
        assert "underage" not in can(player, "login").reasons
