"""The API through a real Redis outage (a private redis-server, stopped or frozen mid-test): keys are verified from
the database, the throttle and the failed-key counter count in the process, postings, balances and eligibility
keep answering, a revocation still holds, and the outage is logged once and shown on /metrics."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from apps.api import auth_failures
from apps.api.services import api_client_revoke
from apps.audit.services import SystemActor
from apps.core import degradation
from tests.conftest import make_platform_client
from tests.private_redis import PrivateRedis, caches_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_server(settings: Any) -> Iterator[PrivateRedis]:
    server = PrivateRedis().start()
    settings.REDIS_RETRY_SECONDS = 0.05
    degradation.redis.reset()
    with caches_on(server, settings):
        yield server
    server.close()
    degradation.redis.reset()
    auth_failures.reset_auth_blocks()


def deposit(api: Any, player: Any, amount: str = "10.00") -> Any:
    body = {
        "type": "deposit",
        "player": player.external_id,
        "amount": amount,
        "currency": "GBP",
        "payment_method": "card",
        "instrument_fingerprint": "abc",
    }
    return api.post("/api/v1/wallet/transactions/", body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)


def test_it_keeps_posting_and_reading_balances_and_eligibility_while_redis_is_down(redis_server, player, settings):
    settings.API_KEY_LOCAL_CACHE_SECONDS = 0  # every request verifies the key again: from Redis, then the database
    platform = make_platform_client()
    api = platform.api()
    assert deposit(api, player).status_code == 201  # Redis up: the key is cached there
    redis_server.stop()
    statuses = []
    for _ in range(5):
        statuses.append(deposit(api, player).status_code)
        statuses.append(api.get(f"/api/v1/players/{player.external_id}/balance/").status_code)
        statuses.append(api.get(f"/api/v1/players/{player.external_id}/eligibility/", {"action": "bet"}).status_code)
    assert statuses == [201, 200, 200] * 5
    assert api.get(f"/api/v1/players/{player.external_id}/balance/").json()["cash"] == "60.00"
    assert degradation.redis.is_open


def test_a_key_revoked_while_redis_is_down_is_refused(redis_server, player, settings):
    settings.API_KEY_LOCAL_CACHE_SECONDS = 0
    platform = make_platform_client()
    api = platform.api()
    assert api.get(f"/api/v1/players/{player.external_id}/balance/").status_code == 200
    redis_server.stop()
    assert api.get(f"/api/v1/players/{player.external_id}/balance/").status_code == 200
    api_client_revoke(actor=SystemActor("tests"), client=platform.model)
    response = api.get(f"/api/v1/players/{player.external_id}/balance/")
    assert (response.status_code, response.json()["code"]) == (401, "invalid_api_key")


def test_a_delete_redis_missed_is_made_before_anything_is_read_when_it_answers_again(redis_server, player, settings):
    """A frozen Redis keeps its data: the entry of a key revoked meanwhile must not come back with it."""
    settings.API_KEY_LOCAL_CACHE_SECONDS = 0
    settings.API_KEY_CACHE_SECONDS = 300
    platform = make_platform_client()
    api = platform.api()
    assert api.get(f"/api/v1/players/{player.external_id}/balance/").status_code == 200  # cached in Redis
    redis_server.pause()
    api_client_revoke(actor=SystemActor("tests"), client=platform.model)  # its delete times out: remembered
    redis_server.resume()
    time.sleep(0.1)  # past REDIS_RETRY_SECONDS
    response = api.get(f"/api/v1/players/{player.external_id}/balance/")
    assert (response.status_code, response.json()["code"]) == (401, "invalid_api_key")
    assert not degradation.redis.is_open


def test_the_throttle_fails_open_to_a_limit_per_process(redis_server, player):
    platform = make_platform_client(throttle_rate="4/min")
    api = platform.api()
    redis_server.stop()
    statuses = [api.get(f"/api/v1/players/{player.external_id}/balance/").status_code for _ in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_invalid_keys_are_still_counted_per_address_while_redis_is_down(redis_server, player, settings):
    settings.API_AUTH_FAILURE_RATE = "3/min"
    redis_server.stop()
    bad = Client(HTTP_AUTHORIZATION="Api-Key nosuch.secret")
    statuses = [bad.get(f"/api/v1/players/{player.external_id}/balance/").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


def test_a_hung_redis_costs_one_timeout_per_retry_interval_not_one_per_call(redis_server, settings):
    settings.REDIS_RETRY_SECONDS = 30
    cache.set("k", "v")
    redis_server.pause()
    started = time.monotonic()
    assert cache.get("k", "fallback") == "fallback"  # one socket timeout (0.3 s)
    first = time.monotonic() - started
    started = time.monotonic()
    for _ in range(50):
        assert cache.get("k") is None and cache.set("k", "w") is False
    assert first >= 0.25 and time.monotonic() - started < 0.05
    redis_server.resume()


def test_the_outage_is_logged_once_when_it_starts_and_once_when_it_ends(redis_server, player, settings, caplog):
    settings.API_KEY_LOCAL_CACHE_SECONDS = 0
    api = make_platform_client().api()
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="apps.core.degradation"):
        for _ in range(20):
            assert api.get(f"/api/v1/players/{player.external_id}/balance/").status_code == 200
        redis_server.start()
        time.sleep(0.1)
        assert api.get(f"/api/v1/players/{player.external_id}/balance/").status_code == 200
    events = [r.msg["event"] for r in caplog.records if isinstance(r.msg, dict)]
    assert events == ["dependency_degraded", "dependency_recovered"]


def test_metrics_show_the_degradation_while_it_lasts(redis_server, player, settings):
    api = make_platform_client().api()
    redis_server.stop()
    assert api.get(f"/api/v1/players/{player.external_id}/balance/").status_code == 200
    during = Client().get("/metrics").content.decode()
    assert 'pitboss_dependency_degraded{dependency="redis"} 1.0' in during
    redis_server.start()
    time.sleep(0.1)
    assert cache.get("anything") is None  # the first call that reaches Redis closes the breaker
    after = Client().get("/metrics").content.decode()
    assert 'pitboss_dependency_degraded{dependency="redis"} 0.0' in after
    assert 'pitboss_dependency_outages_total{dependency="redis"}' in after


def test_a_register_check_asks_the_register_again_while_its_cached_answers_are_unreachable(redis_server, registers):
    """Responsible gambling keeps answering: a register answer cached in Redis is asked again, not lost."""
    from apps.players.eligibility import can
    from tests.factories import PlayerFactory

    player = PlayerFactory(country="GB", currency="GBP")
    assert can(player, "login").allowed
    asked = len(registers.requests)
    assert can(player, "login").allowed and len(registers.requests) == asked  # Redis answered
    redis_server.stop()
    assert can(player, "login").allowed
    assert len(registers.requests) == asked + 1  # no cache: the register itself
    registers.excluded.add(player.last_name)
    assert can(player, "login").reasons == ["self_excluded_national"]  # the hit is seen at once, uncached
