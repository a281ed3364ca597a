"""What a player write keeps in one transaction, and what it keeps out of one (the network)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from apps.audit.services import SystemActor
from apps.players import services
from apps.players.models import Brand, Player
from apps.responsible import registers
from tests.factories import PlayerFactory

ACTOR = SystemActor("tests")


def registration(**changes):
    data = {
        "external_id": "tx-1",
        "username": "tx",
        "email": "tx@example.com",
        "first_name": "Ada",
        "last_name": "Byron",
        "date_of_birth": date(1985, 12, 10),
        "country": "GB",
        "currency": "GBP",
        "brand": Brand.objects.default(),
    }
    return {**data, **changes}


@pytest.mark.django_db
def test_a_registration_whose_audit_event_fails_stores_no_player(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr(services, "audit_log", broken)
    with pytest.raises(RuntimeError):
        services.player_register(actor=ACTOR, data=registration())
    assert not Player.objects.filter(external_id="tx-1").exists()


@pytest.fixture
def spy_register(monkeypatch):
    """Records, for every question to a national register, whether a transaction was open at the time."""
    seen: list[bool] = []
    real = registers.ask

    def spy(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return real(*args, **kwargs)

    monkeypatch.setattr(registers, "ask", spy)
    return seen


@pytest.mark.django_db(transaction=True)
def test_a_login_asks_the_national_register_before_it_opens_a_transaction(geo_rules, spy_register):
    player = PlayerFactory(country="GB", currency="GBP")  # GAMSTOP is asked at every login in GB
    login, result = services.player_login_record(player=player, ip="81.2.69.160")
    assert spy_register == [False]
    assert login.allowed and result.allowed


@pytest.mark.django_db(transaction=True)
def test_a_registration_asks_the_national_register_before_it_opens_a_transaction(geo_rules, spy_register):
    player = services.player_register(actor=ACTOR, data=registration(), ip="81.2.69.160")
    assert spy_register == [False] and player.pk
