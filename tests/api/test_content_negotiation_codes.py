"""The two content-negotiation refusals of the API plumbing (docs/ERRORS.md): the body and the answer are JSON."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.urls")]


def test_it_refuses_a_body_that_is_not_json_with_415(platform_client):
    response = platform_client.api().post("/api/v1/test/echo/", "amount=1", content_type="text/plain")
    assert response.status_code == 415, response.content
    assert response.json()["code"] == "unsupported_media_type"


def test_it_refuses_an_accept_header_without_json_with_406(platform_client):
    response = platform_client.api().get("/api/v1/client/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 406, response.content
    assert response.json()["code"] == "not_acceptable"
