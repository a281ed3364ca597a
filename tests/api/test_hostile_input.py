"""Hostile input to the platform API: each case was a 500 before; now a 4xx with the standard error shape."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
ERROR_KEYS = {"code", "message", "fields", "request_id"}
TXN = "/api/v1/wallet/transactions/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS and body["code"] == code
    return body


def post_txn(api, body, key=None):
    return api.post(TXN, body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


def deposit(player, /, **extra):
    return {"type": "deposit", "player": player.external_id, "amount": "1.00", "currency": "GBP", **extra}


@pytest.mark.parametrize(
    "path", ["/api/v1/players/a%00b/", "/api/v1/players/a%00b/balance/", "/api/v1/players/%00/transactions/"]
)
def test_it_answers_404_to_a_nul_byte_in_a_path_id(platform_client, path):
    assert_error(platform_client.api().get(path), 404, "not_found")


def test_it_names_the_query_parameter_that_holds_a_nul_byte(platform_client, player):
    response = platform_client.api().get(f"/api/v1/players/{player.external_id}/eligibility/?action=bet&ip=1%00")
    assert assert_error(response, 400, "invalid")["fields"] == {"ip": ["Null characters are not allowed."]}


def test_an_encoded_percent_sign_before_00_is_not_a_nul_byte(platform_client, player):
    response = platform_client.api().get(f"/api/v1/players/{player.external_id}/transactions/?type=100%2500")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["type"]  # a bad type, not a NUL


@pytest.mark.parametrize("field", ["player", "reference", "round_id", "payment_method", "not_a_field"])
def test_it_refuses_a_nul_byte_in_any_wallet_body_field(platform_client, player, field):
    assert_error(post_txn(platform_client.api(), deposit(player, **{field: "a\x00b"})), 400, "parse_error")


def test_it_refuses_a_nul_byte_in_the_idempotency_key(platform_client, player):
    body = assert_error(post_txn(platform_client.api(), deposit(player), key="k\x00"), 400, "invalid")
    assert "Idempotency-Key" in body["fields"]


def test_it_refuses_a_nul_byte_in_an_api_key_prefix_without_asking_the_database(platform_client):
    assert_error(APIClient().get("/api/v1/client/", HTTP_AUTHORIZATION="Api-Key a\x00b.secret"), 401, "invalid_api_key")


def test_it_answers_413_to_a_body_over_the_upload_limit(platform_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = b'{"type": "deposit", "reference": "' + b"x" * 2000 + b'"}'
    response = platform_client.api().post(
        TXN, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
    )
    assert_error(response, 413, "request_too_large")


@pytest.mark.parametrize("depth", [1000, 100, 33])
def test_it_answers_parse_error_to_json_nested_too_deep(platform_client, depth):
    body = '{"type": "deposit", "x": ' + "[" * depth + "]" * depth + "}"
    for url in (TXN, "/api/v1/players/"):
        response = platform_client.api().post(
            url, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
        )
        assert_error(response, 400, "parse_error")


def test_it_still_parses_ordinary_nesting(platform_client, player):
    body = deposit(player, extra={"a": [[[{"b": "c"}]]]})  # unknown fields are ignored, depth 5 is fine
    assert post_txn(platform_client.api(), body).status_code == 201


@pytest.mark.parametrize("value", [{"a": 1}, ["slots"], 7, True])
def test_it_refuses_a_game_category_that_is_not_a_string(platform_client, player, value):
    body = {**deposit(player), "type": "bet", "round_id": "R1", "game_category": value}
    assert list(assert_error(post_txn(platform_client.api(), body), 400, "invalid")["fields"]) == ["game_category"]


@pytest.mark.parametrize("value", ["a\x1bb", "a\x07", "a\r\nb", "a\tb", "a\x7f"])
def test_it_refuses_control_characters_in_wallet_text_fields(platform_client, player, value):
    body = assert_error(post_txn(platform_client.api(), deposit(player, reference=value)), 400, "invalid")
    assert list(body["fields"]) == ["reference"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/elsewhere"])
def test_it_answers_the_json_404_to_any_method_on_an_unknown_api_route(method, path):
    browser_like = Client(enforce_csrf_checks=True)  # the CSRF check a real request meets
    response = getattr(browser_like, method)(path, "{}", content_type="application/json")
    assert_error(response, 404, "not_found")


def test_it_answers_a_bad_host_on_the_api_in_the_error_shape(platform_client):
    response = platform_client.api().get("/api/v1/client/", HTTP_HOST="evil.invalid")
    assert_error(response, 400, "bad_request")
