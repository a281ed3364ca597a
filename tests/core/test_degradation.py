"""Dependency outages, for real: killed PostgreSQL backends, a read-only test database, a closed broker port, a
stopped private Redis. Each answers 503 ``service_unavailable`` with ``Retry-After`` (or keeps serving), never a
500, and nothing is left broken once the dependency is back."""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
import structlog
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from psycopg import sql

from apps.api.exceptions import exception_handler
from apps.core import degradation
from tests.conftest import make_platform_client
from tests.factories import PlayerFactory
from tests.private_redis import PrivateRedis, caches_on


@contextmanager
def owner_session() -> Iterator[psycopg.Cursor[Any]]:
    """A connection of its own to this suite's test database, as the owner (never pooled, never the app's)."""
    config = connection.settings_dict
    conn = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname=config["NAME"],
        autocommit=True,
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")  # this session writes, whatever the database says
            yield cursor
    finally:
        conn.close()


def kill_the_pools_backends() -> int:
    """Terminate every other session on this suite's test database (only ours: the name is per session)."""
    with owner_session() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"  # waits until each has gone
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])  # type: ignore[index]


def set_database_read_only(on: bool) -> None:
    name = sql.Identifier(connection.settings_dict["NAME"])
    with owner_session() as cursor:
        if on:
            cursor.execute(sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(name))
        else:
            cursor.execute(sql.SQL("ALTER DATABASE {} RESET default_transaction_read_only").format(name))


def deposit(api: Any, player: Any, key: str | None = None) -> Any:
    body = {
        "type": "deposit",
        "player": player.external_id,
        "amount": "10.00",
        "currency": "GBP",
        "payment_method": "card",
        "instrument_fingerprint": "abc",
    }
    return api.post("/api/v1/wallet/transactions/", body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


def give_back_to_the_pool() -> None:
    """The test client keeps the request's connection in the thread; a server hands it back after each request."""
    connection.close()


# POSTGRESQL ----------------------------------------------------------------------------------------------------


@pytest.fixture
def pooled(transactional_db: Any, geo_rules: Any) -> Iterator[None]:
    assert connection.pool is not None, "the suite's default database is pooled, as in production"
    give_back_to_the_pool()
    yield
    connection.close()
    connection.close_pool()  # no session a test left read-only (or dead) survives into the flush or the next test


def test_it_replaces_a_pooled_connection_whose_backend_was_killed(pooled):
    player = PlayerFactory()
    api = make_platform_client().api()
    assert api.get(f"/api/v1/players/{player.external_id}/balance/").status_code == 200
    give_back_to_the_pool()
    held = [connection.pool.getconn() for _ in range(6)]  # a pool that served some load: six idle connections
    for conn in held:
        connection.pool.putconn(conn)
    assert kill_the_pools_backends() >= 6  # what a restart does to every one of them
    statuses = []
    started = time.monotonic()
    for _ in range(5):
        statuses.append(api.get(f"/api/v1/players/{player.external_id}/balance/").status_code)
        give_back_to_the_pool()
    assert statuses == [200] * 5
    # psycopg_pool's own check would back off 1 s, 2 s, 4 s between the dead ones (a 10 s PoolTimeout here)
    assert time.monotonic() - started < 1.0


def test_without_the_pool_check_a_killed_backend_is_a_503_with_retry_after_not_a_500(pooled, caplog):
    """The control for the test above (the check is what saves the request), and the database's 503."""
    player = PlayerFactory()
    api = make_platform_client().api()
    give_back_to_the_pool()
    connection.close_pool()
    connection.settings_dict["POOL_CHECK"] = False
    try:
        assert api.get(f"/api/v1/players/{player.external_id}/balance/").status_code == 200
        give_back_to_the_pool()
        killed = kill_the_pools_backends()
        assert killed >= 1
        degradation._unavailable_logged.clear()  # this process logged no database outage in the interval yet
        with caplog.at_level(logging.WARNING):
            response = api.get(f"/api/v1/players/{player.external_id}/balance/")
        give_back_to_the_pool()
        assert response.status_code == 503, response.content
        # logged once by apps.core.degradation (at most once per interval), not again per request by django.request
        assert [r.name for r in caplog.records if r.name in ("django.request", "apps.core.degradation")] == [
            "apps.core.degradation"
        ]
        assert response.json()["code"] == "service_unavailable" and int(response["Retry-After"]) >= 1
        assert set(response.json()) == {"code", "message", "fields", "request_id"}
        # each dead connection fails one request at most, then is discarded and replaced (the pool may hold
        # more than one: two were killed in CI once, and the second answered 503 too)
        statuses = []
        for _ in range(killed):
            statuses.append(api.get(f"/api/v1/players/{player.external_id}/balance/").status_code)
            give_back_to_the_pool()
            if statuses[-1] == 200:
                break
        assert statuses[-1] == 200 and set(statuses[:-1]) <= {503}, statuses
    finally:
        give_back_to_the_pool()
        connection.close_pool()
        connection.settings_dict["POOL_CHECK"] = True


def test_a_read_only_database_answers_503_and_is_not_ready_and_recovers_when_writes_are_allowed(pooled, settings):
    player = PlayerFactory()
    api = make_platform_client().api()
    assert deposit(api, player).status_code == 201
    give_back_to_the_pool()
    set_database_read_only(True)
    try:
        kill_the_pools_backends()  # every session from now on starts read-only
        assert Client().get("/readyz").status_code == 503
        give_back_to_the_pool()
        key = uuid.uuid4().hex
        refused = deposit(api, player, key)
        give_back_to_the_pool()
        assert refused.status_code == 503, refused.content
        assert refused.json()["code"] == "service_unavailable" and int(refused["Retry-After"]) >= 1
        settings.API_KEY_LAST_USED_RESOLUTION_SECONDS = 0  # the key's last_used_at is written on this read...
        reading = api.get(f"/api/v1/players/{player.external_id}/balance/")
        assert reading.status_code == 200, reading.content  # ...and fails, but reads go on
        settings.API_KEY_LAST_USED_RESOLUTION_SECONDS = 60
        give_back_to_the_pool()
        ready = Client().get("/readyz")
        give_back_to_the_pool()
        assert ready.status_code == 503 and "read-only" in ready.json()["checks"]["database"]["error"]
    finally:
        set_database_read_only(False)
    # The pool still holds sessions opened read-only: a write that meets one discards it and drains the pool
    # (at most once a second), so the client's retries succeed within about a second, and nothing fails after.
    lifted = time.monotonic()
    retries = []
    while time.monotonic() - lifted < 5:
        retries.append(deposit(api, player, key).status_code)  # the client's retry, same Idempotency-Key
        give_back_to_the_pool()
        if retries[-1] != 503:
            break
        time.sleep(0.2)
    recovered_after = time.monotonic() - lifted
    assert retries[-1] == 201 and set(retries[:-1]) <= {503}, retries
    assert recovered_after < 2.5, (recovered_after, retries)
    statuses = []
    for _ in range(5):
        statuses.append(deposit(api, player).status_code)
        give_back_to_the_pool()
    assert statuses == [201] * 5
    assert deposit(api, player, key).status_code == 201  # a replay of the retried deposit: no second effect
    give_back_to_the_pool()
    balance = api.get(f"/api/v1/players/{player.external_id}/balance/").json()
    assert balance["cash"] == "70.00"  # 10 before, the retried 10 once, 5 x 10 after
    assert Client().get("/readyz").status_code == 200


# BROKER AND REDIS ------------------------------------------------------------------------------------------------


def test_a_broker_outage_is_a_503_service_unavailable():
    from kombu import Connection

    with pytest.raises(Exception) as raised, Connection("redis://127.0.0.1:1/0", connect_timeout=0.5) as conn:
        conn.ensure_connection(max_retries=1, timeout=0.5)
    response = exception_handler(raised.value, {})
    assert (response.status_code, response.data["code"]) == (503, "service_unavailable")
    assert response["Retry-After"] == str(django_settings.SERVICE_UNAVAILABLE_RETRY_AFTER["broker"])


def test_a_redis_error_a_view_cannot_do_without_is_a_503():
    import redis

    with pytest.raises(redis.exceptions.ConnectionError) as raised:
        redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5).ping()
    response = exception_handler(raised.value, {})
    assert (response.status_code, response.data["code"]) == (503, "service_unavailable")
    assert response["Retry-After"] == str(django_settings.SERVICE_UNAVAILABLE_RETRY_AFTER["redis"])


@pytest.fixture
def redis_server(settings: Any) -> Iterator[PrivateRedis]:
    server = PrivateRedis().start()
    settings.REDIS_RETRY_SECONDS = 0.05
    degradation.redis.reset()
    with caches_on(server, settings):
        yield server
    server.close()
    degradation.redis.reset()


@pytest.mark.django_db
def test_staff_login_refuses_with_503_while_the_lockout_store_is_down(redis_server):
    """The login lockout fails closed: no lockout state, no login (a 503 page, not a 500)."""
    redis_server.stop()
    response = Client(raise_request_exception=False).post(
        "/admin/login/", {"username": "someone", "password": "wrong-password-1"}
    )
    assert response.status_code == 503 and int(response["Retry-After"]) >= 1
    assert b"Service unavailable" in response.content


@pytest.mark.django_db
def test_readyz_is_degraded_not_unready_while_redis_is_stopped(redis_server):
    redis_server.stop()
    response = Client().get("/readyz")
    assert response.status_code == 200 and response.json()["status"] == "degraded"


# LOGGING ---------------------------------------------------------------------------------------------------------


def test_a_foreign_loggers_exception_keeps_its_traceback_in_json_logs():
    config = django_settings.LOGGING["formatters"]["json"]
    formatter = structlog.stdlib.ProcessorFormatter(
        processor=config["processor"], foreign_pre_chain=config["foreign_pre_chain"]
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("celery.worker.test_degradation")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            {}["missing"]
        except KeyError:
            logger.exception("worker crashed")
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["event"] == "worker crashed" and line["level"] == "error"
    assert "Traceback (most recent call last)" in line["exception"] and "KeyError: 'missing'" in line["exception"]
    assert "traceback object" not in stream.getvalue()
