from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.players.demo import DEMO_BRAND_CODE, seed_players
from apps.players.eligibility import can
from apps.players.models import Player
from apps.players.validation import e164

pytestmark = pytest.mark.django_db


def test_seed_players_tops_up_idempotently_with_valid_players():
    assert seed_players(120, actor=None) == 120
    assert seed_players(120, actor=None) == 0
    assert seed_players(150, actor=None) == 30
    players = list(Player.objects.all())
    assert len(players) == 150 and len({p.email for p in players}) == 150
    assert {p.country for p in players} <= {"GB", "DE", "SE", "DK", "NL", "MT", "CA", "US"}
    assert {p.brand.code for p in players} == {DEMO_BRAND_CODE}  # one brand seeded for the demo
    for p in players:
        assert e164(p.phone) == p.phone, p.phone
        assert p.identity_fingerprint and p.email_hash
    # demo players are adults in licensed markets: eligible to log in from nowhere in particular
    assert all(can(p, "login").allowed for p in players[:40])


def test_seed_demo_command_seeds_players(capsys):
    call_command("seed_demo", "--players", "25")
    assert "25 added" in capsys.readouterr().out
    assert Player.objects.count() == 25
