from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.core.errors import ValidationFailed
from apps.players.services import player_set_block
from apps.wallet import posting, services
from apps.wallet.models import Adjustment, Withdrawal
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
D = Decimal


def funded(player, amount="100.00"):
    posting.wallet_deposit(player=player, amount=D(amount), currency="GBP")
    return player


def bal(player):
    return posting.balances(player.pk, "GBP")


def test_request_moves_cash_to_pending_and_cancel_gives_it_back(platform_client, player):
    funded(player)
    api = platform_client.api()
    url = f"/api/v1/players/{player.external_id}/withdrawals/"
    r = api.post(url, {"amount": "40.00", "currency": "GBP"}, format="json", HTTP_IDEMPOTENCY_KEY="w1")
    assert r.status_code == 201, r.json()
    assert r.json()["balances"]["cash"] == "60.00" and r.json()["balances"]["pending_withdrawal"] == "40.00"
    wid = r.json()["withdrawal"]["id"]
    cancel = api.post(f"{url}{wid}/cancel/", format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert cancel.status_code == 200 and cancel.json()["withdrawal"]["status"] == "cancelled"
    assert bal(player)["cash"] == "100.00" and bal(player)["pending_withdrawal"] == "0.00"
    actions = list(AuditEvent.objects.filter(target_id=str(wid)).values_list("action", "actor_type"))
    assert actions == [("withdrawal.cancelled", "api_client"), ("withdrawal.requested", "api_client")]
    again = api.post(f"{url}{wid}/cancel/", format="json", HTTP_IDEMPOTENCY_KEY="c2")
    assert again.status_code == 409 and again.json()["code"] == "withdrawal_not_open"


def test_a_withdrawal_beyond_cash_or_while_blocked_is_refused(platform_client, player):
    funded(player, "10.00")
    url = f"/api/v1/players/{player.external_id}/withdrawals/"
    r = platform_client.api().post(
        url, {"amount": "10.01", "currency": "GBP"}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
    )
    assert r.status_code == 409 and r.json()["code"] == "insufficient_funds"
    player_set_block(actor=SystemActor("t"), player=player, capability="withdrawal", blocked=True, reason="t")
    r = platform_client.api().post(
        url, {"amount": "1.00", "currency": "GBP"}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
    )
    assert r.status_code == 403 and r.json()["code"] == "blocked_for_withdrawal"
    assert not Withdrawal.objects.exists()


def test_finance_approves_and_marks_paid(player):
    officer = StaffUserFactory(roles=["Finance Officer"])
    w = services.withdrawal_request(player=funded(player), amount=D("50.00"), currency="GBP")
    services.withdrawal_approve(actor=officer, withdrawal=w)
    services.withdrawal_settle(actor=officer, withdrawal=w, paid=True)
    w.refresh_from_db()
    assert w.status == "paid" and bal(player) == {**bal(player), "cash": "50.00", "pending_withdrawal": "0.00"}
    assert {"withdrawal.approved", "withdrawal.paid"} <= set(AuditEvent.objects.values_list("action", flat=True))


def test_a_large_withdrawal_needs_two_different_approvers(player, settings):
    settings.WITHDRAWAL_SECOND_APPROVAL_THRESHOLD = D("30.00")
    first, second = StaffUserFactory(roles=["Finance Officer"]), StaffUserFactory(roles=["Finance Officer"])
    w = services.withdrawal_request(player=funded(player), amount=D("50.00"), currency="GBP")
    services.withdrawal_approve(actor=first, withdrawal=w)
    w.refresh_from_db()
    assert w.status == "pending" and w.first_approver == first
    with pytest.raises(Exception) as same:
        services.withdrawal_approve(actor=first, withdrawal=w)
    assert same.value.code == "same_approver"
    services.withdrawal_approve(actor=second, withdrawal=w)
    w.refresh_from_db()
    assert w.status == "approved" and w.second_approver == second


def test_a_hold_blocks_approval_until_released_and_reject_returns_funds(player):
    officer = StaffUserFactory(roles=["Finance Officer"])
    w = services.withdrawal_request(player=funded(player), amount=D("20.00"), currency="GBP")
    hold = services.withdrawal_place_hold(actor=officer, withdrawal=w, reason="source of funds")
    with pytest.raises(Exception) as held:
        services.withdrawal_approve(actor=officer, withdrawal=w)
    assert held.value.code == "withdrawal_on_hold"
    services.withdrawal_release_hold(actor=officer, hold=hold, reason="documents received")
    services.withdrawal_reject(actor=officer, withdrawal=w, reason="duplicate request")
    assert bal(player)["cash"] == "100.00"


def test_a_failed_payout_returns_the_funds(player):
    officer = StaffUserFactory(roles=["Finance Officer"])
    w = services.withdrawal_request(player=funded(player), amount=D("20.00"), currency="GBP")
    services.withdrawal_approve(actor=officer, withdrawal=w)
    with pytest.raises(ValidationFailed):
        services.withdrawal_settle(actor=officer, withdrawal=w, paid=False, reason="")
    services.withdrawal_settle(actor=officer, withdrawal=w, paid=False, reason="bank rejected")
    assert bal(player)["cash"] == "100.00"


def test_small_adjustments_post_at_once_large_ones_need_another_person(player, settings):
    settings.ADJUSTMENT_SECOND_APPROVAL_THRESHOLD = D("100.00")
    maker, checker = StaffUserFactory(roles=["Finance Officer"]), StaffUserFactory(roles=["Finance Officer"])
    small = services.adjustment_request(actor=maker, player=player, amount="25.00", reason="goodwill")
    assert small.status == "posted" and bal(player)["cash"] == "25.00"
    large = services.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    assert large.status == "pending" and bal(player)["cash"] == "25.00"
    with pytest.raises(Exception) as same:
        services.adjustment_decide(actor=maker, adjustment=large, approve=True)
    assert same.value.code == "same_approver"
    services.adjustment_decide(actor=checker, adjustment=large, approve=True)
    assert bal(player)["cash"] == "525.00"
    debit = services.adjustment_request(actor=maker, player=player, amount="-5.00", reason="correction")
    assert debit.status == "posted" and bal(player)["cash"] == "520.00"
    with pytest.raises(Exception) as empty:
        services.adjustment_request(actor=maker, player=player, amount="25", reason="")
    assert empty.value.code == "reason_required"


def test_the_withdrawal_queue_and_adjustment_screens(staff_client, player, settings):
    settings.ADJUSTMENT_SECOND_APPROVAL_THRESHOLD = D("10.00")
    maker, checker = StaffUserFactory(roles=["Finance Officer"]), StaffUserFactory(roles=["Finance Officer"])
    w = services.withdrawal_request(player=funded(player), amount=D("30.00"), currency="GBP")
    client = staff_client(maker)
    assert "30.00" in client.get("/admin/wallet/withdrawal/").content.decode()
    client.post(f"/admin/wallet/withdrawal/{w.pk}/decide/", {"what": "hold", "reason": "check"})
    assert w.holds.count() == 1
    assert client.get(f"/admin/wallet/withdrawal/{w.pk}/change/").status_code == 200
    client.post(
        "/admin/wallet/adjustment/add/",
        {"player_external_id": player.external_id, "amount_text": "50.00", "reason": "compensation"},
    )
    adjustment = Adjustment.objects.get()
    assert adjustment.status == "pending"
    staff_client(checker).post("/admin/wallet/adjustment/", {"action": "approve", "_selected_action": [adjustment.pk]})
    adjustment.refresh_from_db()
    assert adjustment.status == "posted" and adjustment.approved_by == checker
    section = f"/admin/players/player/{player.pk}/section/wallet/?partial=1"  # the page loads it after it
    assert 'id="wallet"' in staff_client(checker).get(section).content.decode()


def test_support_cannot_approve_or_adjust(staff_client, support_agent, player):
    w = services.withdrawal_request(player=funded(player), amount=D("30.00"), currency="GBP")
    client = staff_client(support_agent)
    client.post("/admin/wallet/withdrawal/", {"action": "approve", "_selected_action": [w.pk]})
    w.refresh_from_db()
    assert w.status == "pending"
    assert client.get("/admin/wallet/adjustment/add/").status_code == 403


def test_a_refused_adjustment_is_a_message_on_the_form_not_a_server_error(staff_client, player):
    client = staff_client(StaffUserFactory(roles=["Finance Officer"]))
    for amount in ("ten", "0.001", "1e3", "NaN"):
        r = client.post(
            "/admin/wallet/adjustment/add/",
            {"player_external_id": player.external_id, "amount_text": amount, "reason": "goodwill"},
            follow=True,
        )
        assert r.status_code == 200 and r.context["adminform"].form.errors["amount_text"], amount  # on the field
    assert not Adjustment.objects.exists()
