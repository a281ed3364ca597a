"""Every refusal of apps.wallet.idempotency, through the wallet API (its only way in): the exact code with the
error shape, and nothing written (no posting, no idempotency record, no balance)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.audit.models import AuditEvent
from apps.core.models import OutboxEvent
from apps.wallet import idempotency
from tests.conftest import PlatformClient
from tests.factories import PlayerFactory
from tests.refusals import app_tables, codes_raised_by, snapshot

pytestmark = pytest.mark.django_db
URL = "/api/v1/wallet/transactions/"
TABLES = (*app_tables("wallet", "players"), AuditEvent, OutboxEvent)


def deposit(player: Any, amount: str = "10.00") -> dict[str, str]:
    return {"type": "deposit", "player": player.external_id, "amount": amount, "currency": "GBP"}


Case = Callable[[PlatformClient, Any], tuple[dict[str, str], dict[str, str]]]


def no_key(client: PlatformClient, player: Any):
    return deposit(player), {}


def a_blank_key(client: PlatformClient, player: Any):
    return deposit(player), {"HTTP_IDEMPOTENCY_KEY": "   "}


def a_key_too_long(client: PlatformClient, player: Any):
    return deposit(player), {"HTTP_IDEMPOTENCY_KEY": "k" * 129}


def a_key_with_a_control_character(client: PlatformClient, player: Any):
    return deposit(player), {"HTTP_IDEMPOTENCY_KEY": "pay-\x07-1"}


def a_used_key_with_another_payload(client: PlatformClient, player: Any):
    first = client.api().post(URL, deposit(player), format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == 201, first.content
    return deposit(player, amount="99.00"), {"HTTP_IDEMPOTENCY_KEY": "pay-1"}


CASES: list[tuple[str, int, Case]] = [
    ("idempotency_key_required", 400, no_key),
    ("idempotency_key_required", 400, a_blank_key),
    ("invalid", 400, a_key_too_long),
    ("invalid", 400, a_key_with_a_control_character),
    ("idempotency_conflict", 409, a_used_key_with_another_payload),
]


@pytest.mark.parametrize(("code", "status", "case"), CASES, ids=[f"{c}-{f.__name__}" for c, _, f in CASES])
def test_it_refuses_with_the_code_and_writes_nothing(platform_client, code, status, case):
    player = PlayerFactory()
    body, headers = case(platform_client, player)
    before = snapshot(TABLES)
    response = platform_client.api().post(URL, body, format="json", **headers)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code and set(response.json()) == {"code", "message", "fields", "request_id"}
    assert snapshot(TABLES) == before


def test_it_has_a_case_for_every_code_the_module_raises():
    assert codes_raised_by(idempotency) <= {code for code, _, _ in CASES}
