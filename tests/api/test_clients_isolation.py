"""API clients are bound to brands and see only their players; game postings and withdrawals stay with the client
that made them. Tried as client B against client A's player, round, bet and withdrawal."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

import pytest

from apps.api.models import ApiClient
from apps.audit.models import AuditEvent
from apps.players.eligibility import can
from apps.players.models import DEFAULT_BRAND_CODE, Player
from apps.wallet import posting
from apps.wallet.models import LedgerTransaction, Withdrawal
from tests.conftest import make_platform_client
from tests.factories import BrandFactory, PlayerFactory

pytestmark = pytest.mark.django_db
TXN = "/api/v1/wallet/transactions/"
ERROR_KEYS = {"code", "message", "fields", "request_id"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS and body["code"] == code, body
    return body


def post(api, url, body=None, key=None):
    return api.post(url, body or {}, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


@pytest.fixture
def brands():
    return BrandFactory(code="lucky-spins"), BrandFactory(code="royal-reels")


@pytest.fixture
def two_clients(brands):
    a, b = brands
    return make_platform_client(name="Lucky platform", brands=[a]), make_platform_client(name="Royal", brands=[b])


@pytest.fixture
def player_a(brands):
    player = PlayerFactory(brand=brands[0], email="alice@example.com")
    posting.wallet_deposit(player=player, amount=D("100.00"), currency="GBP")
    return player


def test_it_answers_404_for_another_brands_player_on_every_player_route(two_clients, player_a):
    _a, b = two_clients
    api, p = b.api(), player_a.external_id
    base = f"/api/v1/players/{p}/"
    reads = [
        base,
        f"{base}eligibility/?action=login",
        f"{base}balance/",
        f"{base}transactions/",
        f"{base}responsible-gambling/",
    ]
    for url in reads:
        assert_error(api.get(url), 404, "player_not_found")
    assert_error(api.patch(base, {"email": "mallory@example.com"}, format="json"), 404, "player_not_found")
    writes = [
        (f"{base}logins/", {"ip": "81.2.69.160"}),
        (f"{base}responsible-gambling/limits/", {"kind": "deposit", "period": "day", "amount": "10.00"}),
        (f"{base}responsible-gambling/time-out/", {"hours": 24}),
        (f"{base}responsible-gambling/self-exclusion/", {"term": "6m"}),
        (f"{base}responsible-gambling/self-exclusion/return-request/", {}),
        (f"{base}withdrawals/", {"amount": "10.00", "currency": "GBP"}),
    ]
    for url, body in writes:
        assert_error(post(api, url, body), 404, "player_not_found")
    player_a.refresh_from_db()
    assert player_a.email == "alice@example.com"
    assert not Withdrawal.objects.exists()
    # the player's own client sees it
    a_api = _a.api()
    assert a_api.get(base).json()["email"] == "alice@example.com"
    assert a_api.get(f"{base}balance/").json()["cash"] == "100.00"


def test_it_refuses_postings_on_another_brands_player(two_clients, player_a):
    _a, b = two_clients
    api = b.api()
    body = {"player": player_a.external_id, "amount": "1.00", "currency": "GBP", "round_id": "R1"}
    assert_error(post(api, TXN, {**body, "type": "deposit"}), 404, "player_not_found")
    assert_error(post(api, TXN, {**body, "type": "bet", "game_category": "slots"}), 404, "player_not_found")
    assert_error(post(api, TXN, {**body, "type": "win"}), 404, "player_not_found")
    assert_error(post(api, TXN, {**body, "type": "rollback", "rollback_of": "x"}), 404, "player_not_found")
    assert LedgerTransaction.objects.filter(player=player_a).count() == 1  # the fixture's deposit only


def test_a_win_or_rollback_must_match_the_same_clients_round_or_bet(brands, player_a):
    # two clients of the same brand (a casino platform and a sportsbook) both see the player...
    casino = make_platform_client(name="Casino", brands=[brands[0]])
    sportsbook = make_platform_client(name="Sportsbook", brands=[brands[0]])
    p = player_a.external_id
    bet = {"type": "bet", "player": p, "amount": "5.00", "currency": "GBP", "round_id": "R1", "reference": "b1"}
    assert post(casino.api(), TXN, {**bet, "game_category": "slots"}).status_code == 201
    # ...but neither settles nor reverses the other's round
    win = {"type": "win", "player": p, "amount": "50.00", "currency": "GBP", "round_id": "R1"}
    assert_error(post(sportsbook.api(), TXN, win), 404, "unknown_round")
    assert_error(
        post(sportsbook.api(), TXN, {"type": "rollback", "player": p, "rollback_of": "b1"}), 404, "unknown_bet"
    )
    assert post(casino.api(), TXN, win).status_code == 201


def test_only_the_requesting_client_can_cancel_a_withdrawal(brands, player_a):
    payments = make_platform_client(name="Payments", brands=[brands[0]])
    other = make_platform_client(name="Other", brands=[brands[0]])
    base = f"/api/v1/players/{player_a.external_id}/withdrawals/"
    w = post(payments.api(), base, {"amount": "40.00", "currency": "GBP"}).json()["withdrawal"]
    assert_error(post(other.api(), f"{base}{w['id']}/cancel/"), 404, "withdrawal_not_found")
    assert Withdrawal.objects.get(pk=w["id"]).status == "pending"
    response = post(payments.api(), f"{base}{w['id']}/cancel/")
    assert response.status_code == 200 and response.json()["withdrawal"]["status"] == "cancelled"


REGISTRATION = {
    "external_id": "NEW-1",
    "username": "newbie",
    "email": "newbie@example.com",
    "first_name": "Nia",
    "last_name": "Newman",
    "date_of_birth": "1990-04-01",
    "country": "GB",
    "currency": "GBP",
}


def test_a_client_registers_players_only_into_its_brands(brands, geo_rules):
    a, b = brands
    single = make_platform_client(name="Single", brands=[a])
    response = single.api().post("/api/v1/players/", REGISTRATION, format="json")
    assert response.status_code == 201, response.content
    assert Player.objects.get(external_id="NEW-1").brand == a

    both = make_platform_client(name="Both", brands=[a, b])
    second = {**REGISTRATION, "external_id": "NEW-2", "email": "n2@example.com"}
    assert_error(both.api().post("/api/v1/players/", second, format="json"), 400, "brand_required")
    outsider = BrandFactory(code="elsewhere")
    body = assert_error(
        both.api().post("/api/v1/players/", {**second, "brand": outsider.code}, format="json"), 400, "brand_not_allowed"
    )
    assert "lucky-spins" in body["fields"]["brand"][0]
    assert both.api().post("/api/v1/players/", {**second, "brand": b.code}, format="json").status_code == 201
    assert Player.objects.get(external_id="NEW-2").brand == b


def test_a_self_exclusion_in_one_brand_follows_the_person_into_another(two_clients, brands, geo_rules):
    a_client, b_client = two_clients
    person = {"first_name": "Sam", "last_name": "Twice"}  # and the factory's birth date: one person, two brands
    in_a = PlayerFactory(brand=brands[0], **person)
    in_b = PlayerFactory(brand=brands[1], **person)
    assert in_a.identity_fingerprint == in_b.identity_fingerprint
    url = f"/api/v1/players/{in_a.external_id}/responsible-gambling/self-exclusion/"
    assert post(a_client.api(), url, {"term": "6m"}).status_code == 201
    answer = b_client.api().get(f"/api/v1/players/{in_b.external_id}/eligibility/?action=login").json()
    assert answer["allowed"] is False and "self_excluded" in answer["reasons"]
    assert not can(in_b, "deposit").allowed


def test_clients_without_brands_given_get_the_default_brand_like_existing_clients(db):
    client = make_platform_client(name="Old style")
    assert [b.code for b in client.model.brands.all()] == [DEFAULT_BRAND_CODE]
    default_player = PlayerFactory()  # the default brand, like every player before brands
    assert client.api().get(f"/api/v1/players/{default_player.external_id}/").status_code == 200
    event = AuditEvent.objects.filter(action="api_client.created").latest("id")
    assert event.data["brands"] == [DEFAULT_BRAND_CODE]


def test_an_api_client_needs_at_least_one_brand(db):
    from apps.api.services import api_client_create
    from apps.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as raised:
        api_client_create(actor=None, name="Nobody's", scopes=["players:read"], brands=[])
    assert "brands" in raised.value.fields
    assert not ApiClient.objects.filter(name="Nobody's").exists()


def test_changing_a_clients_brands_takes_effect_on_its_next_request(brands, player_a):
    from apps.api.services import api_client_update

    a, b = brands
    client = make_platform_client(name="Mover", brands=[b])
    url = f"/api/v1/players/{player_a.external_id}/"
    assert_error(client.api().get(url), 404, "player_not_found")
    model = client.model
    api_client_update(
        actor=None,
        client=model,
        name=model.name,
        scopes=model.scopes,
        allowed_networks=model.allowed_networks,
        throttle_rate=model.throttle_rate,
        expiry_date=model.expiry_date,
        brands=[a],
    )
    from apps.api import authentication

    authentication._local.clear()  # what API_KEY_LOCAL_CACHE_SECONDS (2 s) does in a live worker
    assert client.api().get(url).status_code == 200
    event = AuditEvent.objects.filter(action="api_client.updated").latest("id")
    assert event.data["brands"] == {"old": ["royal-reels"], "new": ["lucky-spins"]}


def test_an_administrator_binds_a_client_to_brands_in_the_admin(staff_client, admin_user, brands):
    a, b = brands
    client = staff_client(admin_user)
    response = client.post(
        "/admin/api/apiclient/add/",
        {
            "name": "Royal only",
            "brands": [b.pk],
            "scopes": ["players:read"],
            "allowed_networks": "",
            "throttle_rate": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    created = ApiClient.objects.get(name="Royal only")
    assert [x.code for x in created.brands.all()] == ["royal-reels"]
    listed = client.get("/admin/api/apiclient/", {"brand": str(b.pk)}).content.decode()
    assert "Royal only" in listed
    assert "Royal only" not in client.get("/admin/api/apiclient/", {"brand": str(a.pk)}).content.decode()
    # unticking every brand on the change form keeps the client's brands (the service sets them, not the form)
    client.post(
        f"/admin/api/apiclient/{created.pk}/change/",
        {"name": "Royal only", "scopes": ["players:read"], "allowed_networks": "", "throttle_rate": ""},
    )
    assert [x.code for x in created.brands.all()] == ["royal-reels"]


def test_staff_filter_the_player_list_by_brand_and_see_every_brand(staff_client, support_agent, brands):
    a, b = brands
    PlayerFactory(brand=a, email="in-a@example.com")
    PlayerFactory(brand=b, email="in-b@example.com")
    client = staff_client(support_agent)
    everything = client.get("/admin/players/player/").content.decode()
    assert "in-a@example.com" in everything and "in-b@example.com" in everything
    only_b = client.get("/admin/players/player/", {"brand": str(b.pk)}).content.decode()
    assert "in-b@example.com" in only_b and "in-a@example.com" not in only_b
    assert client.get("/admin/players/player/", {"brand": "abc"}).status_code == 200  # a forged value: no 500


def test_an_administrator_creates_a_brand_and_it_is_audited(staff_client, admin_user):
    from apps.players.models import Brand

    response = staff_client(admin_user).post(
        "/admin/players/brand/add/", {"code": "spin-palace", "name": "Spin Palace", "is_active": "on"}
    )
    assert response.status_code == 302, response.content[:2000]
    brand = Brand.objects.get(code="spin-palace")
    event = AuditEvent.objects.get(action="brand.created")
    assert event.target_id == str(brand.pk) and event.data == {"code": "spin-palace", "name": "Spin Palace"}


def test_staff_lists_of_money_and_protection_filter_by_brand(staff_client, admin_user, finance_officer, brands):
    a, b = brands
    in_a = PlayerFactory(brand=a, external_id="IN-A")
    in_b = PlayerFactory(brand=b, external_id="IN-B")
    for p in (in_a, in_b):
        posting.wallet_deposit(player=p, amount=D("10.00"), currency="GBP")
    client = staff_client(finance_officer)
    for url in ("/admin/wallet/ledgertransaction/", "/admin/wallet/withdrawal/", "/admin/wallet/adjustment/"):
        response = client.get(url, {"brand": str(b.pk)})
        assert response.status_code == 200, url
    page = client.get("/admin/wallet/ledgertransaction/", {"brand": str(b.pk)}).content.decode()
    assert "IN-B" in page and "IN-A" not in page
    admin = staff_client(admin_user)
    for url in ("/admin/responsible/exclusion/", "/admin/responsible/limit/", "/admin/responsible/flag/"):
        assert admin.get(url, {"brand": str(a.pk)}).status_code == 200, url


def test_player_events_reach_only_the_clients_of_the_players_brand(two_clients, player_a):
    from apps.api.services import api_client_set_webhook
    from apps.core.models import OutboxDelivery
    from apps.responsible import services as rg

    a, b = two_clients
    api_client_set_webhook(actor=None, client=a.model, url="https://a.example/hooks")
    api_client_set_webhook(actor=None, client=b.model, url="https://b.example/hooks")
    rg.self_exclude(actor=None, player=player_a, term="1y")
    assert list(OutboxDelivery.objects.values_list("subscriber", flat=True)) == [a.model.prefix]


def test_create_api_client_binds_the_named_brands(brands, capsys):
    from django.core.management import CommandError, call_command

    call_command("create_api_client", "Royal lobby", "--scopes", "players:read", "--brands", "royal-reels")
    assert "brands: royal-reels" in capsys.readouterr().out
    assert [b.code for b in ApiClient.objects.get(name="Royal lobby").brands.all()] == ["royal-reels"]
    with pytest.raises(CommandError, match="Unknown brand"):
        call_command("create_api_client", "Nowhere", "--brands", "no-such-brand")


def test_the_demo_key_sees_the_demo_players(db):
    from apps.core.demo import demo_access
    from apps.players.demo import seed_players

    seed_players(3, actor=None)
    access = demo_access(actor=None)
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {access.values['api_key']}")
    assert api.get("/api/v1/players/demo-0000001/").status_code == 200


def test_an_email_is_unique_within_a_brand_and_tells_another_brand_nothing(geo_rules, two_clients, player_a):
    a_client, b_client = two_clients
    same_email = {**REGISTRATION, "external_id": "B-1", "email": "Alice@Example.com"}  # player_a's, in brand A
    response = b_client.api().post("/api/v1/players/", same_email, format="json")
    assert response.status_code == 201, response.content  # no 409: brand B's client learns nothing of brand A
    twin = Player.objects.get(external_id="B-1")
    assert twin.brand != player_a.brand and twin.email_hash == player_a.email_hash  # still the same person's key
    again = {**REGISTRATION, "external_id": "A-2", "email": "ALICE@example.com"}
    assert_error(a_client.api().post("/api/v1/players/", again, format="json"), 409, "email_taken")
    patch = b_client.api().patch(f"/api/v1/players/{twin.external_id}/", {"email": "b-1@example.com"}, format="json")
    assert patch.status_code == 200, patch.content
    assert Player.objects.filter(email__iexact="alice@example.com").count() == 1
