"""A client's reference names one transaction of a type; a settled round is unwound win first, then bet."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from apps.wallet import posting
from apps.wallet.models import LedgerTransaction
from tests.conftest import make_platform_client
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/wallet/transactions/"


def post(api, body, key=None):
    return api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


@pytest.fixture
def funded(player):
    posting.wallet_deposit(player=player, amount=D("100.00"), currency="GBP")
    return player


def bet(player, reference, round_id="R1", amount="5.00"):
    return {
        "type": "bet",
        "player": player.external_id,
        "amount": amount,
        "currency": "GBP",
        "round_id": round_id,
        "reference": reference,
        "game_category": "table",
    }


def test_it_refuses_a_second_bet_under_the_same_reference_and_writes_nothing(platform_client, funded):
    api = platform_client.api()
    assert post(api, bet(funded, "b-1")).status_code == 201
    second = post(api, bet(funded, "b-1", round_id="R2"))
    assert second.status_code == 409 and second.json()["code"] == "duplicate_reference"
    assert "reference" in second.json()["fields"]
    assert LedgerTransaction.objects.filter(type="bet").count() == 1
    assert api.get(f"/api/v1/players/{funded.external_id}/balance/").json()["cash"] == "95.00"
    # the one bet under the reference can still be rolled back
    r = post(api, {"type": "rollback", "player": funded.external_id, "rollback_of": "b-1"})
    assert r.status_code == 201 and r.json()["balances"]["cash"] == "100.00"


def test_a_reference_is_unique_per_client_and_type_only(platform_client, funded):
    api = platform_client.api()
    assert post(api, bet(funded, "shared")).status_code == 201
    win = {"type": "win", "player": funded.external_id, "amount": "1.00", "currency": "GBP", "round_id": "R1"}
    assert post(api, {**win, "reference": "shared"}).status_code == 201  # another type
    other = make_platform_client(name="Other platform")
    assert post(other.api(), bet(funded, "shared", round_id="R9")).status_code == 201  # another client
    deposit = {"type": "deposit", "player": funded.external_id, "amount": "5.00", "currency": "GBP"}
    assert post(api, {**deposit, "reference": "dep-1"}).status_code == 201
    assert post(api, {**deposit, "reference": "dep-1"}).json()["code"] == "duplicate_reference"


def test_replaying_the_idempotency_key_returns_the_original_answer_not_a_conflict(platform_client, funded):
    api = platform_client.api()
    first = post(api, bet(funded, "b-9"), key="key-9")
    again = post(api, bet(funded, "b-9"), key="key-9")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert LedgerTransaction.objects.filter(type="bet").count() == 1


def test_the_database_refuses_a_duplicate_reference_written_behind_the_code(funded):
    fields = {"type": "bet", "player": funded, "currency": "GBP", "amount": D("1"), "api_client": "abc"}
    LedgerTransaction.objects.create(reference="dup", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerTransaction.objects.create(reference="dup", **fields)
    # internal postings (no client) and empty references are not constrained
    LedgerTransaction.objects.create(reference="", **fields)
    LedgerTransaction.objects.create(reference="", **fields)


def test_a_settled_round_is_unwound_win_first_then_bet(platform_client, funded):
    api = platform_client.api()
    p = funded.external_id
    assert post(api, bet(funded, "b-1")).status_code == 201
    win = {"type": "win", "player": p, "amount": "12.00", "currency": "GBP", "round_id": "R1", "reference": "w-1"}
    assert post(api, win).json()["balances"]["cash"] == "107.00"
    refused = post(api, {"type": "rollback", "player": p, "rollback_of": "b-1"})
    assert refused.status_code == 409 and refused.json()["code"] == "round_settled"
    undo_win = post(api, {"type": "rollback", "player": p, "rollback_of": "w-1", "rollback_type": "win"})
    assert undo_win.status_code == 201, undo_win.content
    assert undo_win.json()["transaction"]["type"] == "win_rollback"
    assert undo_win.json()["balances"]["cash"] == "95.00"
    undo_bet = post(api, {"type": "rollback", "player": p, "rollback_of": "b-1"})
    assert undo_bet.status_code == 201 and undo_bet.json()["balances"]["cash"] == "100.00"
    again = post(api, {"type": "rollback", "player": p, "rollback_of": "w-1", "rollback_type": "win"})
    assert again.json()["code"] == "already_rolled_back"


def test_a_win_rollback_names_a_known_win_and_the_player_must_still_hold_it(platform_client, funded):
    api = platform_client.api()
    p = funded.external_id
    unknown = post(api, {"type": "rollback", "player": p, "rollback_of": "nope", "rollback_type": "win"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_win"
    bad = post(api, {"type": "rollback", "player": p, "rollback_of": "x", "rollback_type": "deposit"})
    assert bad.status_code == 400 and "rollback_type" in bad.json()["fields"]
    post(api, bet(funded, "b-1", amount="100.00"))
    win = {"type": "win", "player": p, "amount": "50.00", "currency": "GBP", "round_id": "R1", "reference": "w-1"}
    post(api, win)
    post(api, bet(funded, "b-2", round_id="R2", amount="50.00"))  # the win is staked again: cash 0
    spent = post(api, {"type": "rollback", "player": p, "rollback_of": "w-1", "rollback_type": "win"})
    assert spent.status_code == 409 and spent.json()["code"] == "insufficient_funds"


def test_limit_usage_counts_a_rolled_back_win_as_no_win():
    from django.utils import timezone

    from apps.responsible.limits import usage

    player = PlayerFactory()
    posting.wallet_deposit(player=player, amount=D("50.00"), currency="GBP")
    posting.wallet_bet(player=player, amount=D("10.00"), currency="GBP", round_id="R", game_category="table")
    posting.wallet_win(player=player, amount=D("8.00"), currency="GBP", round_id="R", reference="w")
    assert usage(player.pk, "GBP", {"day"}, timezone.now())[("loss", "day")] == D("2.00")
    posting.wallet_rollback(player=player, bet_reference="w", api_client="", of_type="win")
    assert usage(player.pk, "GBP", {"day"}, timezone.now())[("loss", "day")] == D("10.00")


@pytest.mark.usefixtures("geo_rules")
@pytest.mark.django_db(transaction=True)
def test_concurrent_deposits_under_one_reference_on_different_players_make_one_effect():
    import threading

    from django.db import connection

    client = make_platform_client()
    players = [PlayerFactory() for _ in range(4)]  # different players: no account lock serialises them
    statuses: list[int] = []
    barrier = threading.Barrier(len(players))

    def send(p) -> None:
        try:
            barrier.wait()
            body = {"type": "deposit", "player": p.external_id, "amount": "10.00", "currency": "GBP", "reference": "r"}
            statuses.append(post(client.api(), body).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(p,)) for p in players]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 409, 409, 409]
    assert LedgerTransaction.objects.filter(type="deposit").count() == 1
    from apps.wallet.models import Account

    assert sorted(str(a.balance) for a in Account.objects.filter(kind="cash")) == ["0.0000"] * 3 + ["10.0000"]
