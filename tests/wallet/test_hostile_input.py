from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from apps.wallet import posting, services
from apps.wallet.models import LedgerTransaction
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def test_it_refuses_a_posting_that_would_take_a_balance_past_the_ledger_columns(platform_client, player):
    api = platform_client.api()
    url = "/api/v1/wallet/transactions/"
    body = {"type": "deposit", "player": player.external_id, "amount": "999999999999999.99", "currency": "GBP"}
    for _ in range(10):  # 10 x (1e15 - 0.01): just under NUMERIC(20, 4)'s 1e16
        assert (
            api.post(
                "/api/v1/wallet/transactions/", body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
            ).status_code
            == 201
        )
    before = LedgerTransaction.objects.count()
    response = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "balance_limit"
    assert LedgerTransaction.objects.count() == before
    assert posting.balances(player.pk, "GBP")["cash"] == "9999999999999999.90"


@pytest.fixture
def held_withdrawal(player):
    posting.wallet_deposit(player=player, amount=Decimal("50.00"), currency="GBP")
    w = services.withdrawal_request(player=player, amount=Decimal("20.00"), currency="GBP")
    return w


@pytest.mark.parametrize("hold", ["abc", "", "1.5", "\u0661"])  # the last: an Arabic-Indic digit one
def test_it_answers_a_form_message_to_a_hold_id_that_is_not_a_number(staff_client, held_withdrawal, hold):
    client = staff_client(StaffUserFactory(roles=["Finance Officer"]))
    response = client.post(
        f"/admin/wallet/withdrawal/{held_withdrawal.pk}/decide/",
        {"what": "release", "hold": hold, "reason": "checked"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Choose the hold to release." in response.content.decode()


def test_it_answers_a_form_message_to_a_nul_byte_in_a_decision_reason(staff_client, held_withdrawal):
    client = staff_client(StaffUserFactory(roles=["Finance Officer"]))
    response = client.post(
        f"/admin/wallet/withdrawal/{held_withdrawal.pk}/decide/", {"what": "hold", "reason": "a\x00b"}, follow=True
    )
    assert response.status_code == 200 and "NUL" in response.content.decode()
    assert held_withdrawal.holds.count() == 0
