"""The base view for API commands (apps/api/commands.py), through two test-only endpoints written as a new one would
be (tests/api/command_urls.py), and the rules the real endpoints share with them."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser

from apps.api.commands import CommandInput, CommandView
from apps.players.api.serializers import IpField
from apps.players.validation import CONTROL_MESSAGE
from apps.wallet.idempotency import request_hash
from apps.wallet.models import IdempotencyRecord
from tests.api.command_urls import PERFORMED, ClaimInput
from tests.api.test_route_declarations import api_routes
from tests.conftest import make_platform_client
from tests.factories import BrandFactory, PlayerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.command_urls")]
ERROR_KEYS = {"code", "message", "fields", "request_id"}


@pytest.fixture(autouse=True)
def _forget_calls():
    PERFORMED.clear()


def claim(api, player, body, key=None, tail="claims/"):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not False else {}
    if key is None:
        extra["HTTP_IDEMPOTENCY_KEY"] = uuid.uuid4().hex
    return api.post(f"/api/v1/players/{player.external_id}/{tail}", body, format="json", **extra)


def fields_of(response, status=400, code="invalid"):
    body = response.json()
    assert (response.status_code, body["code"], set(body)) == (status, code, ERROR_KEYS), body
    return body["fields"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"code": 5}, {"code": ["Not a valid string."]}),
        ({"code": "x" * 21}, {"code": ["Ensure this field has no more than 20 characters."]}),
        ({"code": "a\x1bb"}, {"code": [CONTROL_MESSAGE]}),
        ({"code": "ok", "channel": "fax"}, {"channel": ["Must be one of: web, app."]}),
        ({"code": "ok", "channel": ""}, {"channel": ["Must be one of: web, app."]}),
        ({"code": "ok", "currency": "GBPX"}, {"currency": ["Three letters."]}),
        ({"code": "ok", "currency": "G"}, {"currency": ["Three letters."]}),
        ({"code": "ok", "stake": "3"}, {"stake": ["A valid integer is required."]}),
        ({"code": "ok", "stake": True}, {"stake": ["A valid integer is required."]}),
        ({"code": "ok", "stake": 0}, {"stake": ["Ensure this value is greater than or equal to 1."]}),
        ({"code": "ok", "stake": 10**30}, {"stake": ["Ensure this value is less than or equal to 100."]}),
        ({"code": "ok", "consent": "yes"}, {"consent": ["Must be a valid boolean."]}),
        ({"code": "ok", "note": "line\nbreak\x07"}, {"note": [CONTROL_MESSAGE]}),
        ({"code": "ok", "note": "x\n" * 11}, {"note": ["Ensure this field has no more than 20 characters."]}),
        ({}, {"code": ["This field is required."]}),
        ({"code": "  "}, {"code": ["This field is required."]}),
        # a missing required field is named only once the rest is well-formed
        ({"channel": "fax"}, {"channel": ["Must be one of: web, app."]}),
        ({"code": [], "stake": {}}, {"code": ["Not a valid string."], "stake": ["A valid integer is required."]}),
    ],
)
def test_it_validates_the_body_by_the_fields_it_documents(platform_client, player, body, fields):
    assert fields_of(claim(platform_client.api(), player, body)) == fields
    assert PERFORMED == [] and not IdempotencyRecord.objects.exists()


def test_it_passes_the_validated_body_with_defaults_stripped_and_normalised(platform_client, player):
    r = claim(platform_client.api(), player, {"code": " c1 ", "note": "a\r\nb", "stake": 3, "extra": "ignored"})
    assert r.status_code == 201 and r.json() == {"player": player.external_id, "code": "c1"}
    (performed,) = PERFORMED
    assert performed == (
        {
            "player": player.external_id,
            "code": "c1",
            "amount": "",
            "channel": "web",
            "currency": "",
            "stake": 3,
            "consent": None,
            "note": "a\nb",
        }
    )


def test_an_amount_sent_as_a_json_number_is_amount_invalid_before_anything_else(platform_client, player):
    r = claim(platform_client.api(), player, {"amount": 1.5, "code": 5})
    assert fields_of(r, code="amount_invalid") == {"amount": ["Send a decimal string."]}


@pytest.mark.parametrize("body", [[], "claim", 5])
def test_a_body_that_is_not_an_object_is_refused(platform_client, player, body):
    assert fields_of(claim(platform_client.api(), player, body)) == {"non_field_errors": ["Expected an object."]}


def test_it_refuses_to_compile_a_field_it_cannot_check():
    with pytest.raises(TypeError, match="DecimalField"):

        class Decimal(CommandInput):
            amount = serializers.DecimalField(max_digits=12, decimal_places=2)

    with pytest.raises(TypeError, match="IpField parses values itself"):

        class Ip(CommandInput):
            ip = IpField()

    with pytest.raises(TypeError, match="would not run"):

        class Validated(CommandInput):
            code = serializers.CharField(validators=[lambda value: None])

    with pytest.raises(TypeError, match="validate_code would not run"):

        class Hooked(CommandInput):
            code = serializers.CharField()

            def validate_code(self, value):
                return value


@pytest.mark.parametrize("field", ["reference", "round_id", "player"])
def test_a_lone_surrogate_in_a_wallet_text_is_a_400_naming_the_field(platform_client, player, field):
    body = {"type": "deposit", "player": player.external_id, "amount": "1.00", "currency": "GBP", field: "a\ud800b"}
    raw = json.dumps(body)  # ensure_ascii: the surrogate travels as the escape "\ud800", as a client may send it
    r = platform_client.api().post(
        "/api/v1/wallet/transactions/", data=raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k7"
    )
    assert fields_of(r) == {field: ["Surrogate characters are not allowed: U+D800."]}


def test_a_replay_answers_the_stored_result_and_another_body_is_a_conflict(platform_client, player):
    api = platform_client.api()
    first = claim(api, player, {"code": "c1"}, key="k1")
    again = claim(api, player, {"code": "c1"}, key="k1")
    assert (first.status_code, again.status_code, again.json()) == (201, 201, first.json())
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert fields_of(claim(api, player, {"code": "c2"}, key="k1"), 409, "idempotency_conflict") == {}
    assert len(PERFORMED) == 1


def test_a_refusal_is_stored_and_replayed_but_an_invalid_body_is_not(platform_client, player):
    api = platform_client.api()
    refused = claim(api, player, {"code": "refuse"}, key="k2")
    assert claim(api, player, {"code": "refuse"}, key="k2").json() == refused.json()
    assert refused.status_code == 409 and len(PERFORMED) == 1
    # a 400 is not stored under the key: the client fixes the body and sends it again with the same key
    assert claim(api, player, {"code": 5}, key="k3").status_code == 400
    assert claim(api, player, {"code": "c3"}, key="k3").status_code == 201


def test_a_command_needs_its_key_and_its_scope(platform_client, player):
    assert fields_of(claim(platform_client.api(), player, {"code": "c"}, key=False), 400, "idempotency_key_required")
    reader = make_platform_client(scopes=["players:read"])
    assert fields_of(claim(reader.api(), player, {"code": "c"}), 403, "missing_scope") == {}
    assert PERFORMED == []


def test_another_brands_player_is_not_found_and_the_answer_is_stored_under_the_key(player):
    other = make_platform_client(name="Other brand", brands=[BrandFactory(code="other-brand")])
    r = claim(other.api(), player, {"code": "c1"}, key="k4")
    assert fields_of(r, 404, "player_not_found") == {}
    assert IdempotencyRecord.objects.get(key="k4").status == 404 and PERFORMED == []


def test_a_command_that_is_not_idempotent_finds_the_player_before_it_reads_the_body(player):
    other = make_platform_client(name="Other brand", brands=[BrandFactory(code="other-brand")])
    note = claim(other.api(), player, {"code": 5}, key=False, tail="notes/")
    assert fields_of(note, 404, "player_not_found") == {}
    # ...but a body that is not an object is refused first (no player is looked up for it)
    assert fields_of(claim(other.api(), player, [], key=False, tail="notes/")) == {
        "non_field_errors": ["Expected an object."]
    }
    own = claim(make_platform_client().api(), player, {"code": "n1"}, key=False, tail="notes/")
    assert (own.status_code, own.json()) == (202, {"player": player.external_id, "code": "n1"})
    assert not IdempotencyRecord.objects.exists()


def test_the_real_time_out_follows_the_same_order(platform_client):
    """Another brand's player is 404 whatever the body says (before the base view, a malformed ``hours`` was
    refused first)."""
    foreign = PlayerFactory(brand=BrandFactory(code="foreign"))
    url = f"/api/v1/players/{foreign.external_id}/responsible-gambling/time-out/"
    assert fields_of(platform_client.api().post(url, {"hours": "24"}, format="json"), 404, "player_not_found") == {}


def test_a_wallet_posting_asks_for_the_scope_its_type_needs(player):
    game = make_platform_client(scopes=["wallet:game"])
    url = "/api/v1/wallet/transactions/"
    deposit = {"type": "deposit", "player": player.external_id, "amount": "1.00", "currency": "GBP"}
    r = game.api().post(url, deposit, format="json", HTTP_IDEMPOTENCY_KEY="k5")
    assert fields_of(r, 403, "missing_scope") == {} and "wallet:payments" in r.json()["message"]
    reader = make_platform_client(scopes=["wallet:read"])
    r = reader.api().post(url, {**deposit, "type": "gift"}, format="json", HTTP_IDEMPOTENCY_KEY="k6")
    assert r.json()["message"] == "This API client lacks the scope(s): wallet:payments or wallet:game."


def test_the_compiled_rules_read_the_declared_fields():
    # one definition: the maximum length the schema documents is the one the parser applies
    assert ClaimInput().fields["code"].max_length == 20
    with pytest.raises(Exception) as refused:
        ClaimInput.parse({"code": "x" * 21})
    assert refused.value.fields == {"code": ["Ensure this field has no more than 20 characters."]}


def test_the_key_stands_for_the_same_payload_as_before_so_stored_keys_still_replay(platform_client, player):
    """A key stored before the base view must still match its replay after it: the hashed payload is the body for
    a posting, the path and body for a withdrawal, the path alone for a cancellation."""
    api = platform_client.api()
    deposit = {"type": "deposit", "player": player.external_id, "amount": "50.00", "currency": "GBP"}
    api.post("/api/v1/wallet/transactions/", deposit, format="json", HTTP_IDEMPOTENCY_KEY="p1")
    url = f"/api/v1/players/{player.external_id}/withdrawals/"
    body = {"amount": "10.00", "currency": "GBP"}
    w = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="p2").json()["withdrawal"]
    cancel = f"{url}{w['id']}/cancel/"
    assert api.post(cancel, HTTP_IDEMPOTENCY_KEY="p3").status_code == 200
    stored = dict(IdempotencyRecord.objects.values_list("key", "request_hash"))
    assert stored == {
        "p1": request_hash(deposit),
        "p2": request_hash({"path": url, "body": body}),
        "p3": request_hash({"path": cancel}),
    }


@pytest.mark.urls("backoffice.urls")
def test_every_command_documents_the_serializer_it_validates_with():
    spec = SchemaGenerator().get_schema(request=None, public=True)
    checked = 0
    for route, pattern in api_routes():
        view = getattr(pattern.callback, "cls", None)
        if view is None or not issubclass(view, CommandView):
            continue
        path = "/" + re.sub(r"<\w+:(\w+)>", r"{\1}", route)
        operation = spec["paths"][path][view.method]
        if view.request_serializer is None:
            assert "requestBody" not in operation, path
        else:
            [(media_type, body)] = operation["requestBody"]["content"].items()  # one parser each
            assert media_type == (
                "multipart/form-data" if view.parser_classes == [MultiPartParser] else "application/json"
            )
            ref = body["schema"]["$ref"]
            assert ref == f"#/components/schemas/{view.request_serializer.__name__}Request", path
        assert ("Idempotency-Key" in {p["name"] for p in operation.get("parameters", [])}) == view.idempotent, path
        checked += 1
    assert checked == 13  # wallet 3, responsible 5, players 2, kyc 1 (the upload: multipart), bonuses 2
