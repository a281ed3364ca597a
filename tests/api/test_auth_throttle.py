"""Failed authentication is throttled by client address (apps.api.auth_failures)."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from apps.api import auth_failures

pytestmark = pytest.mark.django_db
ERROR_KEYS = {"code", "message", "fields", "request_id"}


@pytest.fixture(autouse=True)
def _no_blocks(settings):
    settings.API_AUTH_FAILURE_RATE = "5/min"
    auth_failures.reset_auth_blocks()
    yield
    auth_failures.reset_auth_blocks()


def call(key: str, ip: str = "203.0.113.9"):
    return APIClient().get("/api/v1/client/", HTTP_AUTHORIZATION=f"Api-Key {key}", REMOTE_ADDR=ip)


@time_machine.travel("2026-03-02 10:00:05", tick=False)  # well inside one minute's window
def test_it_answers_429_with_retry_after_past_the_rate_of_invalid_keys(platform_client):
    for _ in range(5):
        assert call("nope.nope").status_code == 401
    response = call("nope.nope")
    assert response.status_code == 429
    body = response.json()
    assert set(body) == ERROR_KEYS and body["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    # While blocked, even the right key from that address is refused: a guesser cannot tell a hit.
    assert call(platform_client.key).status_code == 429
    # Another address is not affected.
    assert call(platform_client.key, ip="198.51.100.7").status_code == 200


@time_machine.travel("2026-03-02 10:00:05", tick=False)
def test_malformed_headers_count_as_failures_too(platform_client):
    for _ in range(5):
        assert (
            APIClient().get("/api/v1/client/", HTTP_AUTHORIZATION="Bearer x", REMOTE_ADDR="203.0.113.9").status_code
            == 401
        )
    assert call("nope.nope").status_code == 429


def test_the_block_ends_with_its_window(platform_client):
    with time_machine.travel("2026-03-02 10:00:05", tick=False):
        for _ in range(6):
            call("nope.nope")
        assert call(platform_client.key).status_code == 429
    with time_machine.travel("2026-03-02 10:01:01", tick=False):
        assert call(platform_client.key).status_code == 200


@time_machine.travel("2026-03-02 10:00:05", tick=False)
def test_valid_keys_are_never_counted(platform_client):
    for _ in range(20):
        assert call(platform_client.key).status_code == 200


@time_machine.travel("2026-03-02 10:00:05", tick=False)
def test_another_worker_learns_the_block_from_the_shared_counter(platform_client):
    for _ in range(5):
        call("nope.nope")
    auth_failures.reset_auth_blocks()  # a process that has not seen this address's failures yet
    assert call(platform_client.key).status_code == 200  # no failure seen here: no Redis read on success
    assert call("nope.nope").status_code == 429  # its next failure reads the shared count
    assert call(platform_client.key).status_code == 429
