"""The demo KYC levels: every player gets a profile, unverified players of markets that verify before play get
their registration requirement, and a second run adds nothing."""

from __future__ import annotations

import pytest

from apps.audit.services import SystemActor
from apps.kyc.demo import seed_levels
from apps.kyc.models import KycProfile, Requirement
from apps.players.demo import seed_players
from apps.players.eligibility import can
from apps.players.models import Player

pytestmark = pytest.mark.django_db


def test_demo_levels_cover_every_player_once():
    seed_players(200, actor=SystemActor("tests"))
    profiles, requirements = seed_levels()
    assert profiles == Player.objects.count() == KycProfile.objects.count()
    assert set(KycProfile.objects.values_list("level", flat=True)) == {0, 1, 2, 3}
    unverified_gb = Player.objects.filter(kyc__level=0, country="GB")
    assert unverified_gb.exists()
    for player in unverified_gb:
        requirement = Requirement.objects.get(player=player, state="open")
        assert requirement.level == 1 and "deposit" in requirement.restricts
        assert "kyc_required" in can(player, "deposit", ask_registers=False).reasons
    assert requirements == Requirement.objects.count()
    assert seed_levels() == (0, 0)
