from __future__ import annotations

from datetime import date, timedelta

import pytest

from apps.audit.models import AuditEvent
from apps.players.models import Player, PlayerLogin
from tests.conftest import make_platform_client
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
VALID = {
    "external_id": "ext-1001",
    "username": "zoe",
    "email": "Zoe.OBrien+casino@example.com",
    "first_name": "Zoë",
    "last_name": "O'Brien",
    "date_of_birth": "1990-04-02",
    "phone": "+44 7911 123456",
    "country": "gb",
    "currency": "GBP",
    "terms_version": "2026-01",
    "marketing_email": True,
    "registration_ip": "81.2.69.160",
}


def test_it_registers_a_player_and_audits_it(platform_client):
    response = platform_client.api().post("/api/v1/players/", VALID, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["external_id"] == "ext-1001" and body["country"] == "GB" and body["phone"] == "+447911123456"
    assert body["registration_ip_country"] == "GB" and body["terms_accepted_at"] and body["marketing_email_at"]
    assert "identity_fingerprint" not in body and "status_reason" not in body
    player = Player.objects.get(external_id="ext-1001")
    event = AuditEvent.objects.get(action="player.registered")
    assert event.target_id == str(player.pk) and event.actor_type == "api_client"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"date_of_birth": (date.today() + timedelta(days=1)).isoformat()}, "date_of_birth"),
        ({"date_of_birth": "1990-02-30"}, "date_of_birth"),
        ({"date_of_birth": "1850-01-01"}, "date_of_birth"),
        ({"country": "XX"}, "country"),
        ({"currency": "EUX"}, "currency"),
        ({"registration_ip": "300.1.2.3"}, "registration_ip"),
        ({"phone": "12345"}, "phone"),
        ({"region": "CA-ON"}, "region"),  # not a region of GB
        ({"external_id": "has spaces"}, "external_id"),
        ({"gender": "f"}, "gender"),
    ],
)
def test_bad_input_is_a_400_with_field_errors_and_writes_nothing(platform_client, change, field):
    response = platform_client.api().post("/api/v1/players/", {**VALID, **change}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and field in response.json()["fields"]
    assert not Player.objects.exists() and not AuditEvent.objects.filter(action="player.registered").exists()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"date_of_birth": (date.today() - timedelta(days=17 * 366)).isoformat()}, "underage"),
        ({"country": "FR", "currency": "EUR"}, "jurisdiction_blocked"),
        ({"country": "US", "region": "US-NY", "currency": "USD"}, "jurisdiction_blocked"),
        ({"currency": "EUR"}, "currency_not_allowed"),
        ({"registration_ip": "8.8.8.8"}, "ip_country_blocked"),
    ],
)
def test_registration_is_refused_by_the_jurisdictions_rules(platform_client, change, reason):
    response = platform_client.api().post("/api/v1/players/", {**VALID, **change}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "registration_refused" and reason in body["message"]
    assert not Player.objects.exists()


def test_a_taken_external_id_or_email_is_409(platform_client):
    PlayerFactory(external_id="ext-1001")
    response = platform_client.api().post("/api/v1/players/", VALID, format="json")
    assert response.status_code == 409 and response.json()["code"] == "external_id_taken"
    PlayerFactory(email="zoe.obrien+casino@EXAMPLE.com")
    response = platform_client.api().post("/api/v1/players/", {**VALID, "external_id": "ext-2"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "email_taken"


def test_registering_needs_players_write():
    reader = make_platform_client(scopes=["players:read"])
    response = reader.api().post("/api/v1/players/", VALID, format="json")
    assert response.status_code == 403 and response.json()["code"] == "missing_scope"


def test_get_and_patch_a_player(platform_client, player):
    api = platform_client.api()
    assert api.get(f"/api/v1/players/{player.external_id}/").json()["email"] == player.email
    response = api.patch(
        f"/api/v1/players/{player.external_id}/", {"phone": "+447911123457", "marketing_sms": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["phone"] == "+447911123457" and response.json()["marketing_sms_at"]
    event = AuditEvent.objects.get(action="player.updated")
    assert event.data["phone"] == {"old": "", "new": "+447911123457"}


def test_gender_is_given_at_registration_or_later_and_not_recorded_when_left_out(platform_client):
    api = platform_client.api()
    assert api.post("/api/v1/players/", VALID, format="json").json()["gender"] == ""
    other = {**VALID, "external_id": "ext-1002", "email": "ann@example.com", "gender": "female"}
    assert api.post("/api/v1/players/", other, format="json").json()["gender"] == "female"
    response = api.patch("/api/v1/players/ext-1001/", {"gender": "other"}, format="json")
    assert response.status_code == 200 and response.json()["gender"] == "other"
    assert Player.objects.get(external_id="ext-1001").get_gender_display() == "Other"
    event = AuditEvent.objects.get(action="player.updated")
    assert event.data["gender"] == {"old": "", "new": "other"}


def test_patch_refuses_staff_only_fields(platform_client, player):
    response = platform_client.api().patch(
        f"/api/v1/players/{player.external_id}/", {"date_of_birth": "2000-01-01", "status": "active"}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "field_read_only"
    assert set(response.json()["fields"]) == {"date_of_birth", "status"}


def test_an_unknown_player_is_404(platform_client):
    for path in ("/api/v1/players/nobody/", "/api/v1/players/nobody/eligibility/?action=bet"):
        response = platform_client.api().get(path)
        assert response.status_code == 404 and response.json()["code"] == "player_not_found"


def test_eligibility_endpoint(platform_client, player):
    response = platform_client.api().get(
        f"/api/v1/players/{player.external_id}/eligibility/", {"action": "bet", "ip": "8.8.8.8"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "allowed": False,
        "action": "bet",
        "reasons": ["ip_country_blocked"],
        "restrictions": {"max_stake": {"slots": {"amount": "5.00", "currency": "GBP"}}, "min_spin_seconds": "2.5"},
        "jurisdiction": "GB",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "action"),
        ({"action": "fly"}, "action"),
        ({"action": "bet", "ip": "1.2.3"}, "ip"),
        ({"action": "bet", "amount": "-1"}, "amount"),
        ({"action": "bet", "amount": "1.234"}, "amount"),
        ({"action": "bet", "amount": "NaN"}, "amount"),
        ({"action": "bet", "game_category": "darts"}, "game_category"),
    ],
)
def test_eligibility_bad_input_is_400(platform_client, player, params, field):
    response = platform_client.api().get(f"/api/v1/players/{player.external_id}/eligibility/", params)
    assert response.status_code == 400 and field in response.json()["fields"]


def test_recording_a_login(platform_client, player):
    response = platform_client.api().post(
        f"/api/v1/players/{player.external_id}/logins/",
        {"ip": "81.2.69.160", "user_agent": "UA", "device_id": "dev-1"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["allowed"] is True
    login = PlayerLogin.objects.get(player=player)
    assert (login.ip_country, login.device_id, login.allowed) == ("GB", "dev-1", True)
    player.refresh_from_db()
    assert player.last_login_ip == "81.2.69.160"
    refused = platform_client.api().post(
        f"/api/v1/players/{player.external_id}/logins/", {"ip": "8.8.8.8"}, format="json"
    )
    assert refused.json()["reasons"] == ["ip_country_blocked"]
    assert PlayerLogin.objects.filter(player=player, allowed=False).count() == 1
    assert (
        platform_client.api()
        .post(f"/api/v1/players/{player.external_id}/logins/", {"ip": "x"}, format="json")
        .status_code
        == 400
    )


def test_login_records_are_append_only(player):
    from django.db import transaction
    from django.db.utils import ProgrammingError

    login = PlayerLogin.objects.create(player=player, ip="81.2.69.160", allowed=True)
    with pytest.raises(ProgrammingError), transaction.atomic():
        PlayerLogin.objects.filter(pk=login.pk).update(allowed=False)


def test_geo_check(platform_client):
    api = platform_client.api()
    body = api.get("/api/v1/geo/check/", {"country": "CA", "region": "CA-ON", "ip": "8.8.8.8"}).json()
    assert body["registration"]["jurisdiction"] == "CA-ON" and body["min_age"] == 19
    assert set(body["play"]["reasons"]) == {"ip_country_blocked", "ip_country_mismatch"}
    assert any("8.8.8.8 -> US" in line for line in body["play"]["explanation"])
    fr = api.get("/api/v1/geo/check/", {"country": "FR"}).json()
    assert fr["registration"]["reasons"] == ["jurisdiction_blocked"]
    assert api.get("/api/v1/geo/check/", {"ip": "81.2.69.160"}).json()["play"]["allowed"] is True
    assert api.get("/api/v1/geo/check/", {}).status_code == 400
    assert api.get("/api/v1/geo/check/", {"country": "ZZ"}).status_code == 400


def test_every_player_endpoint_is_in_the_schema_with_its_error_codes(platform_client):
    import yaml
    from rest_framework.test import APIClient

    schema = yaml.safe_load(APIClient().get("/api/schema/").content)
    paths = schema["paths"]
    assert {
        "/api/v1/players/",
        "/api/v1/players/{external_id}/",
        "/api/v1/players/{external_id}/eligibility/",
        "/api/v1/players/{external_id}/logins/",
        "/api/v1/geo/check/",
    } <= set(paths)
    assert "registration_refused" in paths["/api/v1/players/"]["post"]["responses"]["400"]["description"]
    eligibility = paths["/api/v1/players/{external_id}/eligibility/"]["get"]
    assert "player_not_found" in eligibility["responses"]["404"]["description"]
    assert "ip_country_mismatch" in eligibility["description"]
    assert {p["name"] for p in eligibility["parameters"]} >= {"action", "ip", "amount", "game_category"}


def test_a_market_closed_to_registrations_refuses_them_but_serves_its_players(platform_client):
    from apps.audit.services import SystemActor
    from apps.geo.models import RulePack
    from apps.geo.services import geo_config_save
    from apps.players.eligibility import can

    existing = PlayerFactory(country="MT", currency="EUR")
    pack = RulePack.objects.get(jurisdiction__code="MT")
    pack.registration_blocked = True
    geo_config_save(actor=SystemActor("tests"), obj=pack, created=False, changed=["registration_blocked"])
    response = platform_client.api().post(
        "/api/v1/players/", {**VALID, "country": "MT", "currency": "EUR"}, format="json"
    )
    assert response.status_code == 400 and "registration_blocked" in response.json()["message"]
    assert can(existing, "login").allowed
