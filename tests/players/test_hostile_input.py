"""Control characters in what the platform sends about a player: refused per field, line breaks kept where an
address may span lines."""

from __future__ import annotations

import pytest

from apps.players.models import Player

pytestmark = pytest.mark.django_db


def registration(**changes):
    body = {
        "external_id": "hostile-1",
        "username": "ada",
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1990-01-01",
        "country": "GB",
        "currency": "GBP",
    }
    return {**body, **changes}


@pytest.mark.parametrize("field", ["username", "first_name", "last_name", "city", "postal_code", "affiliate_tag"])
@pytest.mark.parametrize("value", ["A\x1b[31mB", "A\x07", "A\r\nB", "A\nB", "A\x00B", "A\u2028B"])
def test_it_refuses_control_characters_in_names_and_one_line_text(platform_client, field, value):
    response = platform_client.api().post("/api/v1/players/", registration(**{field: value}), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] in ("invalid", "parse_error")  # a NUL is refused by the parser itself
    if body["code"] == "invalid":
        assert list(body["fields"]) == [field]
    assert not Player.objects.filter(external_id="hostile-1").exists()


def test_it_keeps_line_breaks_in_the_address_and_normalises_them(platform_client):
    response = platform_client.api().post(
        "/api/v1/players/", registration(address_line="Flat 2\r\n10 Downing Street"), format="json"
    )
    assert response.status_code == 201, response.content
    assert Player.objects.get(external_id="hostile-1").address_line == "Flat 2\n10 Downing Street"


def test_it_refuses_other_control_characters_in_the_address(platform_client):
    response = platform_client.api().post("/api/v1/players/", registration(address_line="Flat\x1b2"), format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["address_line"]


def test_it_refuses_control_characters_in_a_profile_change_and_a_login(platform_client, player):
    api = platform_client.api()
    response = api.patch(f"/api/v1/players/{player.external_id}/", {"city": "Lon\x1bdon"}, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["city"]
    response = api.post(
        f"/api/v1/players/{player.external_id}/logins/", {"ip": "81.2.69.160", "user_agent": "x\x07"}, format="json"
    )
    assert response.status_code == 400 and list(response.json()["fields"]) == ["user_agent"]
