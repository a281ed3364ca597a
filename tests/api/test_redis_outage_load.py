"""Postings under concurrent load, over real HTTP (a live server in this process, threaded), while a private Redis
is stopped mid-load and started again: no 5xx at all, every posting answered 2xx is in the ledger exactly once,
and the balance is their sum. The bounded in-suite version of the issue's 20-second outage (tests/faults/ runs
the long one against gunicorn)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib import error, request

import pytest

from apps.core import degradation
from apps.wallet.models import IdempotencyRecord, LedgerTransaction
from apps.wallet.selectors import ledger_mismatches
from tests.conftest import make_platform_client
from tests.factories import PlayerFactory
from tests.private_redis import PrivateRedis, caches_on

WORKERS = 4
SECONDS_UP_BEFORE, SECONDS_DOWN, SECONDS_UP_AFTER = 1.0, 2.0, 1.0


@pytest.fixture
def redis_server(settings: Any) -> Iterator[PrivateRedis]:
    server = PrivateRedis().start()
    settings.REDIS_RETRY_SECONDS = 0.2
    degradation.redis.reset()
    with caches_on(server, settings):
        yield server
    server.close()
    degradation.redis.reset()


def _post(url: str, key: str, body: dict[str, Any], idempotency_key: str) -> int:
    req = request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Api-Key {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
        },
    )
    try:
        with request.urlopen(req, timeout=10) as response:
            return int(response.status)
    except error.HTTPError as exc:
        return int(exc.code)


def test_postings_through_a_redis_outage_under_load_get_no_5xx_and_count_once(
    live_server: Any, geo_rules: Any, redis_server: PrivateRedis, settings: Any
) -> None:
    settings.API_KEY_LOCAL_CACHE_SECONDS = 0  # every request verifies its key: the cache path is on every request
    player = PlayerFactory()
    platform = make_platform_client()
    url = f"{live_server.url}/api/v1/wallet/transactions/"
    statuses: Counter[int] = Counter()
    accepted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            key = uuid.uuid4().hex
            body = {
                "type": "deposit",
                "player": player.external_id,
                "amount": "1.00",
                "currency": "GBP",
                "payment_method": "card",
                "instrument_fingerprint": "load",
            }
            for _attempt in range(5):  # the platform's retry: same Idempotency-Key
                status = _post(url, platform.key, body, key)
                with lock:
                    statuses[status] += 1
                if status < 500:
                    break
                time.sleep(0.1)
            if status in (200, 201):
                with lock:
                    accepted.append(key)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    time.sleep(SECONDS_UP_BEFORE)
    redis_server.stop()
    before = sum(statuses.values())
    time.sleep(SECONDS_DOWN)
    during = sum(statuses.values()) - before
    redis_server.start()
    time.sleep(SECONDS_UP_AFTER)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    print(f"redis outage under load: {dict(statuses)}, {len(accepted)} postings, {during} requests while down")
    assert not any(status >= 500 for status in statuses), statuses
    assert set(statuses) <= {200, 201}, statuses
    assert len(accepted) == len(set(accepted)) and len(accepted) > 20, statuses
    assert during > 0
    # every 2xx is in the ledger exactly once, and nothing else is
    assert IdempotencyRecord.objects.filter(api_client=platform.model.prefix, key__in=accepted).count() == len(accepted)
    assert LedgerTransaction.objects.filter(player=player, type="deposit").count() == len(accepted)
    assert ledger_mismatches() == []
    balance = request.Request(
        f"{live_server.url}/api/v1/players/{player.external_id}/balance/",
        headers={"Authorization": f"Api-Key {platform.key}"},
    )
    with request.urlopen(balance, timeout=10) as response:
        assert Decimal(json.loads(response.read())["cash"]) == Decimal("1.00") * len(accepted)
    assert not degradation.redis.is_open  # the load's own calls closed the breaker after Redis came back
