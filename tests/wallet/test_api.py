from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from apps.wallet.models import IdempotencyRecord, LedgerTransaction
from tests.conftest import make_platform_client
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/wallet/transactions/"


def post(api, body, key=None):
    return api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


def test_a_whole_lifecycle_through_the_api_keeps_exact_balances(platform_client, player):
    api = platform_client.api()
    p = player.external_id
    assert (
        post(
            api,
            {
                "type": "deposit",
                "player": p,
                "amount": "50.00",
                "currency": "GBP",
                "payment_method": "card",
                "instrument_fingerprint": "abc",
            },
        ).status_code
        == 201
    )
    r = post(
        api,
        {
            "type": "bet",
            "player": p,
            "amount": "2.50",
            "currency": "GBP",
            "round_id": "R1",
            "reference": "bet-1",
            "game_category": "slots",
        },
    )
    assert r.status_code == 201 and r.json()["balances"]["cash"] == "47.50"
    r = post(api, {"type": "win", "player": p, "amount": "10.00", "currency": "GBP", "round_id": "R1"})
    assert r.json()["balances"]["cash"] == "57.50"
    post(
        api,
        {
            "type": "bet",
            "player": p,
            "amount": "5.00",
            "currency": "GBP",
            "round_id": "R2",
            "game_category": "table",
            "reference": "bet-2",
        },
    )
    r = post(api, {"type": "rollback", "player": p, "rollback_of": "bet-2"})
    assert r.status_code == 201 and r.json()["transaction"]["type"] == "rollback"
    balance = api.get(f"/api/v1/players/{p}/balance/").json()
    assert balance == {
        "currency": "GBP",
        "cash": "57.50",
        "bonus": "0.00",
        "pending_withdrawal": "0.00",
        "playable": "57.50",
    }


def test_a_replayed_key_returns_the_original_result_without_a_second_effect(platform_client, player):
    api = platform_client.api()
    body = {"type": "deposit", "player": player.external_id, "amount": "10.00", "currency": "GBP"}
    first = post(api, body, key="k-1")
    again = post(api, body, key="k-1")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert LedgerTransaction.objects.count() == 1


def test_the_same_key_with_another_payload_is_409(platform_client, player):
    api = platform_client.api()
    post(api, {"type": "deposit", "player": player.external_id, "amount": "10.00", "currency": "GBP"}, key="k-2")
    r = post(api, {"type": "deposit", "player": player.external_id, "amount": "11.00", "currency": "GBP"}, key="k-2")
    assert r.status_code == 409 and r.json()["code"] == "idempotency_conflict"
    assert LedgerTransaction.objects.count() == 1


def test_keys_belong_to_their_client(player):
    a, b = make_platform_client(name="a"), make_platform_client(name="b")
    body = {"type": "deposit", "player": player.external_id, "amount": "1.00", "currency": "GBP"}
    assert post(a.api(), body, key="same").status_code == 201
    assert post(b.api(), body, key="same").status_code == 201
    assert LedgerTransaction.objects.count() == 2


def test_a_refusal_is_replayed_as_the_same_refusal(platform_client, player):
    api = platform_client.api()
    body = {
        "type": "bet",
        "player": player.external_id,
        "amount": "1.00",
        "currency": "GBP",
        "round_id": "R",
        "game_category": "table",
    }
    first = post(api, body, key="k-3")
    assert first.status_code == 409 and first.json()["code"] == "insufficient_funds"
    post(api, {"type": "deposit", "player": player.external_id, "amount": "5.00", "currency": "GBP"})
    again = post(api, body, key="k-3")
    assert (again.status_code, again.json()) == (409, first.json())  # not re-executed after the deposit
    assert not LedgerTransaction.objects.filter(type="bet").exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount": "1.001"}, 400, "amount_invalid"),
        ({"amount": 1.5}, 400, "amount_invalid"),
        ({"amount": "-1"}, 400, "amount_invalid"),
        ({"amount": "1e3"}, 400, "amount_invalid"),
        ({"amount": "NaN"}, 400, "amount_invalid"),
        ({"amount": "1,000.00"}, 400, "amount_invalid"),
        ({"currency": "EUR"}, 400, "currency_mismatch"),
        ({"player": "nobody"}, 404, "player_not_found"),
        ({"type": "win", "round_id": "never"}, 404, "unknown_round"),
        ({"type": "rollback", "rollback_of": "never"}, 404, "unknown_bet"),
        ({"type": "fly"}, 400, "invalid"),
        ({"round_id": ""}, 400, "invalid"),
        ({"type": "rollback"}, 400, "invalid"),
        ({"game_category": "bingo"}, 400, "invalid"),
        ({"reference": 5}, 400, "invalid"),
        ({"player": "x" * 65}, 400, "invalid"),
        ({"currency": "GB"}, 400, "invalid"),
        ({"player": ["a"]}, 400, "invalid"),
    ],
)
def test_every_bad_request_is_a_4xx_and_writes_nothing(platform_client, player, body, status, code):
    base = {
        "type": "bet",
        "player": player.external_id,
        "amount": "1.00",
        "currency": "GBP",
        "round_id": "R",
        "game_category": "table",
    }
    r = post(platform_client.api(), {**base, **body})
    assert (r.status_code, r.json()["code"]) == (status, code), r.json()
    assert not LedgerTransaction.objects.exists()


def test_an_eligibility_refusal_names_the_reasons(platform_client):
    from apps.audit.services import SystemActor
    from apps.players.services import player_set_status

    blocked = PlayerFactory()
    player_set_status(actor=SystemActor("t"), player=blocked, status="blocked", reason="fraud")
    r = post(
        platform_client.api(), {"type": "deposit", "player": blocked.external_id, "amount": "5.00", "currency": "GBP"}
    )
    assert r.status_code == 403 and r.json()["code"] == "account_blocked"
    assert r.json()["fields"]["reasons"] == ["account_blocked"]


def test_writes_need_an_idempotency_key_and_the_scope(platform_client, player):
    r = platform_client.api().post(
        URL, {"type": "deposit", "player": player.external_id, "amount": "1.00", "currency": "GBP"}, format="json"
    )
    assert r.status_code == 400 and r.json()["code"] == "idempotency_key_required"
    reader = make_platform_client(scopes=["wallet:read"])
    assert post(reader.api(), {"type": "deposit"}).json()["code"] == "missing_scope"


@pytest.mark.usefixtures("geo_rules")
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_exactly_one_effect():
    client = make_platform_client()
    player = PlayerFactory()
    body = {"type": "deposit", "player": player.external_id, "amount": "10.00", "currency": "GBP"}
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        try:
            barrier.wait()
            statuses.append(post(client.api(), body, key="race").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * 6
    assert LedgerTransaction.objects.count() == 1 and IdempotencyRecord.objects.count() == 1


def test_transactions_are_listed_newest_first_with_a_cursor_and_filters(platform_client, player):
    api = platform_client.api()
    for n in range(5):
        post(api, {"type": "deposit", "player": player.external_id, "amount": f"{n + 1}.00", "currency": "GBP"})
    post(
        api,
        {
            "type": "bet",
            "player": player.external_id,
            "amount": "1.00",
            "currency": "GBP",
            "round_id": "R",
            "game_category": "table",
        },
    )
    url = f"/api/v1/players/{player.external_id}/transactions/"
    first = api.get(url, {"limit": 4}).json()
    assert [t["type"] for t in first["results"]] == ["bet", "deposit", "deposit", "deposit"]
    second = api.get(url, {"limit": 4, "cursor": first["next_cursor"]}).json()
    assert [t["amount"] for t in second["results"]] == ["2.00", "1.00"] and second["next_cursor"] is None
    assert len(api.get(url, {"type": "deposit"}).json()["results"]) == 5
    assert api.get(url, {"limit": 0}).status_code == 400
    assert api.get(url, {"type": "gift"}).status_code == 400
