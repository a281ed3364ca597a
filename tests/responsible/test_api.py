from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.responsible.models import Exclusion, LimitChange

pytestmark = pytest.mark.django_db


def url(player, tail=""):
    return f"/api/v1/players/{player.external_id}/responsible-gambling/{tail}"


def test_limits_through_the_api_with_usage_and_a_pending_raise(platform_client, player):
    api = platform_client.api()
    r = api.post(url(player, "limits/"), {"kind": "deposit", "period": "day", "value": "100.00"}, format="json")
    assert r.status_code == 201 and r.json()["change"]["status"] == "applied"
    api.post(
        "/api/v1/wallet/transactions/",
        {"type": "deposit", "player": player.external_id, "amount": "85.00", "currency": "GBP"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="d1",
    )
    r = api.post(url(player, "limits/"), {"kind": "deposit", "period": "day", "value": "500.00"}, format="json")
    assert r.status_code == 202
    change = r.json()["change"]
    overview = api.get(url(player)).json()
    (limit,) = overview["limits"]
    assert (limit["used"], limit["remaining"], limit["percent_used"]) == ("85.0000", "15.0000", 85)
    assert overview["pending_changes"][0]["to"] == "500.0000"
    r = api.post(url(player, f"limits/{change['id']}/confirm/"))
    assert r.status_code == 409 and r.json()["code"] == "cooling_off_pending"
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert api.post(url(player, f"limits/{change['id']}/confirm/")).status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "deposit", "period": "day", "value": "-1"}, "limit_invalid"),
        ({"kind": "deposit", "period": "day", "value": "ten"}, "limit_invalid"),
        ({"kind": "deposit", "period": "fortnight", "value": "10"}, "limit_invalid"),
        ({"kind": "deposit", "period": "day", "value": 10}, "limit_invalid"),
        ({"kind": "deposit", "period": "day"}, "limit_invalid"),
    ],
)
def test_bad_limits_are_4xx_with_a_code_and_change_nothing(platform_client, player, body, code):
    r = platform_client.api().post(url(player, "limits/"), body, format="json")
    assert (r.status_code, r.json()["code"]) == (400, code)
    assert not LimitChange.objects.exists()


def test_time_out_self_exclusion_and_return_through_the_api(platform_client, player):
    api = platform_client.api()
    r = api.post(url(player, "time-out/"), {"hours": "soon"}, format="json")
    assert (r.status_code, r.json()["code"]) == (400, "term_not_allowed")
    assert api.post(url(player, "time-out/"), {"hours": 48}, format="json").status_code == 201
    r = api.post(url(player, "self-exclusion/"), {"term": "2w"}, format="json")
    assert (r.status_code, r.json()["code"]) == (400, "term_not_allowed")
    start = timezone.now()
    assert api.post(url(player, "self-exclusion/"), {"term": "6m"}, format="json").status_code == 201
    overview = api.get(url(player)).json()
    assert overview["self_exclusion"]["term"] == "6m" and overview["time_out"]["term"] == "48h"
    r = api.post(url(player, "self-exclusion/return-request/"))
    assert (r.status_code, r.json()["code"]) == (409, "exclusion_active")
    eligibility = api.get(f"/api/v1/players/{player.external_id}/eligibility/", {"action": "login"}).json()
    assert "self_excluded" in eligibility["reasons"]
    with time_machine.travel(start + timedelta(days=190), tick=False):
        r = api.post(url(player, "self-exclusion/return-request/"))
        assert r.status_code == 200 and r.json()["self_exclusion"]["reopens_at"]
    assert Exclusion.objects.count() == 2


def test_the_overview_shows_the_players_own_protections_not_the_operators_reasons(platform_client, player):
    from apps.responsible.services import operator_exclude
    from tests.factories import StaffUserFactory

    operator_exclude(actor=StaffUserFactory(roles=["Support Agent"]), player=player, reason="affordability review")
    body = platform_client.api().get(url(player)).json()
    assert "affordability" not in str(body) and body["self_exclusion"] is None


@pytest.mark.parametrize(
    ("country", "currency", "ip", "term"), [("GB", "GBP", "81.2.69.160", "1y"), ("MT", "EUR", "", "5y")]
)
def test_a_self_exclusion_survives_re_registration_through_the_api(platform_client, country, currency, ip, term):
    api = platform_client.api()
    person = {"first_name": "Ada", "last_name": "Byron", "date_of_birth": "1985-12-10", "country": country}
    first = {**person, "external_id": "first", "email": "ada@example.com", "username": "ada", "currency": currency}
    second = {**first, "external_id": "second", "email": "a.b@example.org", "username": "ab2"}
    extra = {"terms_version": "2026-01", **({"registration_ip": ip} if ip else {})}
    assert api.post("/api/v1/players/", {**first, **extra}, format="json").status_code == 201
    r = api.post("/api/v1/players/first/responsible-gambling/self-exclusion/", {"term": term}, format="json")
    assert r.status_code == 201, r.json()
    r = api.post("/api/v1/players/", {**second, **extra}, format="json")
    assert r.status_code == 201, r.json()  # the new account lands excluded
    for action in ("login", "deposit", "bet"):
        answer = api.get("/api/v1/players/second/eligibility/", {"action": action}).json()
        assert answer["allowed"] is False and "self_excluded" in answer["reasons"], answer
