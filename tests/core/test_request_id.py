from __future__ import annotations

import logging

from django.test import Client


def _finished_events(caplog) -> list[dict]:
    return [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == "request_finished"]


def test_every_response_carries_a_request_id_and_the_log_line_has_the_same(caplog):
    caplog.set_level(logging.INFO, logger="django_structlog")
    response = Client().get("/healthz")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    assert [e["request_id"] for e in _finished_events(caplog)] == [request_id]


def test_a_callers_request_id_is_kept(caplog):
    caplog.set_level(logging.INFO, logger="django_structlog")
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a:42")
    assert response["X-Request-ID"] == "lb-7f3a:42"
    assert _finished_events(caplog)[0]["request_id"] == "lb-7f3a:42"


def test_an_oversized_request_id_is_replaced():
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="x" * 200)
    assert response["X-Request-ID"] != "x" * 200


def test_the_log_line_carries_the_client_address(caplog):
    caplog.set_level(logging.INFO, logger="django_structlog")
    Client(REMOTE_ADDR="203.0.113.9").get("/healthz")
    assert _finished_events(caplog)[0]["ip"] == "203.0.113.9"
