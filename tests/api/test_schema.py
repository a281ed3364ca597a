"""The OpenAPI schema is complete enough to generate the platform's client from it."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

WRITES = ("post", "put", "patch")


@pytest.fixture(scope="module")
def spec():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(spec):
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_it_documents_a_body_for_every_success(spec):
    missing = [
        f"{method.upper()} {path} {status}"
        for path, method, operation in operations(spec)
        for status, response in operation["responses"].items()
        if status.startswith("2") and status != "204" and not response.get("content")
    ]
    assert missing == []


def test_every_error_has_the_error_shape_and_the_plumbing_statuses_are_documented(spec):
    for path, method, operation in operations(spec):
        responses = operation["responses"]
        assert {"401", "403", "406", "429"} <= set(responses), (method, path)
        if method in WRITES:
            assert {"400", "413", "415"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_the_protection_writes_document_their_bodies(spec):
    rg = "/api/v1/players/{external_id}/responsible-gambling/"
    for path, field in ((f"{rg}time-out/", "hours"), (f"{rg}self-exclusion/", "term")):
        body = spec["paths"][path]["post"]["requestBody"]
        ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert field in spec["components"]["schemas"][ref]["required"]


def test_it_names_the_enums_a_client_needs(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["LimitKindEnum"]["enum"] == ["deposit", "loss", "wager", "session"]
    assert schemas["LimitPeriodEnum"]["enum"] == ["day", "week", "month", "session"]
    assert set(schemas["GameCategoryEnum"]["enum"]) == {"slots", "table", "live", "sports", "poker"}
    limit = schemas["LimitInputRequest"]["properties"]
    assert limit["kind"] == {"$ref": "#/components/schemas/LimitKindEnum"}
    assert limit["period"]["allOf"] == [{"$ref": "#/components/schemas/LimitPeriodEnum"}]  # with a description


def test_every_idempotent_write_requires_a_non_empty_key(spec):
    for path, method, operation in operations(spec):
        keys = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
        if method != "get" and (path.startswith("/api/v1/wallet/") or "/withdrawals/" in path):
            assert keys and keys[0]["required"] and keys[0]["schema"]["minLength"] == 1, (method, path)


def test_the_geo_check_says_one_of_country_or_ip_is_required(spec):
    operation = spec["paths"]["/api/v1/geo/check/"]["get"]
    assert "at least one of them is required" in operation["description"]


def test_a_429_documents_retry_after_and_every_response_its_request_id(spec):
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            assert response["headers"]["X-Request-ID"]["required"], (method, path, status)
        assert operation["responses"]["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
