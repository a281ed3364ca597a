"""The Finance withdrawal queue driven through the admin as staff use it (password + 2FA session): approve and
mark paid from the queue's actions; reject, payout failed, place and release a hold from the withdrawal's page.
Each asserts the state, the balances, the audit row and, above the threshold, the second approver."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from apps.audit.models import AuditEvent
from apps.staff import roles
from apps.staff.models import StaffUser
from apps.wallet import posting, services
from apps.wallet.models import LedgerTransaction, Withdrawal, WithdrawalHold
from tests.conftest import verified_client
from tests.factories import PlayerFactory, StaffUserFactory
from tests.refusals import snapshot

pytestmark = pytest.mark.django_db
D = Decimal
QUEUE = "/admin/wallet/withdrawal/"
TABLES = (Withdrawal, WithdrawalHold, LedgerTransaction, AuditEvent)


@pytest.fixture
def officers() -> tuple[StaffUser, StaffUser]:
    return StaffUserFactory(roles=[roles.FINANCE_OFFICER]), StaffUserFactory(roles=[roles.FINANCE_OFFICER])


@pytest.fixture(autouse=True)
def threshold(settings):
    settings.WITHDRAWAL_SECOND_APPROVAL_THRESHOLD = D("1000.00")


def requested(amount: str = "40.00") -> Withdrawal:
    player = PlayerFactory()
    posting.wallet_deposit(player=player, amount=D("2000.00"), currency="GBP")
    return services.withdrawal_request(player=player, amount=D(amount), currency="GBP")


def balances(withdrawal: Withdrawal) -> tuple[str, str]:
    b = posting.balances(withdrawal.player_id, "GBP")
    return b["cash"], b["pending_withdrawal"]


def act(staff: StaffUser, action: str, withdrawal: Withdrawal):
    return verified_client(staff).post(QUEUE, {"action": action, "_selected_action": [withdrawal.pk]}, follow=True)


def decide(staff: StaffUser, withdrawal: Withdrawal, **data: object):
    return verified_client(staff).post(f"{QUEUE}{withdrawal.pk}/decide/", data, follow=True)


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def audited(withdrawal: Withdrawal, action: str, staff: StaffUser) -> AuditEvent:
    return AuditEvent.objects.get(
        action=action, target_id=str(withdrawal.pk), actor_type="staff", actor_id=str(staff.pk)
    )


def test_finance_approves_from_the_queue_and_marks_it_paid(officers):
    officer = officers[0]
    withdrawal = requested("40.00")
    assert act(officer, "approve", withdrawal).status_code == 200
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.first_approver, withdrawal.second_approver) == ("approved", officer, None)
    audited(withdrawal, "withdrawal.approved", officer)
    assert act(officer, "mark_paid", withdrawal).status_code == 200
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    assert balances(withdrawal) == ("1960.00", "0.00")
    audited(withdrawal, "withdrawal.paid", officer)


def test_a_large_withdrawal_needs_a_second_finance_officer(officers):
    first, second = officers
    withdrawal = requested("1500.00")
    act(first, "approve", withdrawal)
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.first_approver) == ("pending", first)
    audited(withdrawal, "withdrawal.first_approval", first)
    again = act(first, "approve", withdrawal)
    assert any("second, different staff member" in m for m in said(again))
    withdrawal.refresh_from_db()
    assert withdrawal.status == "pending" and withdrawal.second_approver is None
    refused = act(first, "mark_paid", withdrawal)  # not approved yet: nothing leaves
    assert any("pending" in m for m in said(refused)) and balances(withdrawal) == ("500.00", "1500.00")
    act(second, "approve", withdrawal)
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.first_approver, withdrawal.second_approver) == ("approved", first, second)
    audited(withdrawal, "withdrawal.approved", second)
    act(second, "mark_paid", withdrawal)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid" and balances(withdrawal) == ("500.00", "0.00")


def test_finance_rejects_with_a_reason_and_the_funds_go_back(officers):
    officer = officers[0]
    withdrawal = requested("40.00")
    before = snapshot(TABLES)
    empty = decide(officer, withdrawal, what="reject", reason="  ")
    assert any("reason" in m.lower() for m in said(empty)) and snapshot(TABLES) == before
    decide(officer, withdrawal, what="reject", reason="duplicate request")
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.decision_reason) == ("rejected", "duplicate request")
    assert balances(withdrawal) == ("2000.00", "0.00")
    assert audited(withdrawal, "withdrawal.rejected", officer).data == {"reason": "duplicate request"}


def test_finance_records_a_failed_payout_and_the_funds_go_back(officers):
    officer = officers[0]
    withdrawal = requested("40.00")
    services.withdrawal_approve(actor=officer, withdrawal=withdrawal)
    decide(officer, withdrawal, what="failed", reason="bank returned the payment")
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.decision_reason) == ("failed", "bank returned the payment")
    assert balances(withdrawal) == ("2000.00", "0.00")
    audited(withdrawal, "withdrawal.failed", officer)


def test_a_hold_stops_approval_and_payment_until_it_is_released(officers):
    officer, other = officers
    withdrawal = requested("40.00")
    decide(officer, withdrawal, what="hold", reason="source of funds")
    hold = WithdrawalHold.objects.get(withdrawal=withdrawal)
    assert (hold.reason, hold.placed_by, hold.released_at) == ("source of funds", officer, None)
    audited(withdrawal, "withdrawal.hold_placed", officer)
    page = verified_client(officer).get(f"{QUEUE}{withdrawal.pk}/change/").content.decode()
    assert "source of funds" in page and f'name="hold" value="{hold.pk}"' in page
    refused = act(other, "approve", withdrawal)
    assert any("active hold" in m for m in said(refused))
    withdrawal.refresh_from_db()
    assert withdrawal.status == "pending" and withdrawal.first_approver is None
    decide(other, withdrawal, what="release", hold=str(hold.pk), reason="documents received")
    hold.refresh_from_db()
    assert (hold.released_by, hold.release_reason) == (other, "documents received")
    audited(withdrawal, "withdrawal.hold_released", other)
    act(officer, "approve", withdrawal)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "approved"


def test_a_hold_on_an_approved_withdrawal_stops_the_payment(officers):
    officer, other = officers
    withdrawal = requested("40.00")
    services.withdrawal_approve(actor=officer, withdrawal=withdrawal)
    decide(other, withdrawal, what="hold", reason="chargeback reported")
    refused = act(officer, "mark_paid", withdrawal)
    assert any("active hold" in m for m in said(refused))
    withdrawal.refresh_from_db()
    assert withdrawal.status == "approved" and balances(withdrawal) == ("1960.00", "40.00")


def test_a_refusal_is_a_message_and_changes_nothing(officers):
    officer = officers[0]
    withdrawal = requested("40.00")
    hold = services.withdrawal_place_hold(actor=officer, withdrawal=withdrawal, reason="check")
    services.withdrawal_release_hold(actor=officer, hold=hold, reason="ok")
    before = snapshot(TABLES)
    for data in (
        {"what": "release", "hold": str(hold.pk), "reason": "again"},  # already released
        {"what": "release", "hold": "abc", "reason": "x"},
        {"what": "failed", "reason": "not approved yet"},
        {"what": "launder", "reason": "x"},
    ):
        response = decide(officer, withdrawal, **data)
        assert response.status_code == 200 and said(response), data
        assert snapshot(TABLES) == before, data


@pytest.mark.parametrize(
    ("role", "refused"),
    [
        (roles.SUPPORT_AGENT, ("approve", "mark_paid", "reject", "failed", "hold", "release")),
        (roles.MLRO, ("approve", "mark_paid", "reject", "failed")),  # may hold and release, never decide
        (roles.ADMINISTRATOR, ("approve", "mark_paid", "reject", "failed", "hold", "release")),
    ],
)
def test_roles_without_the_finance_permissions_are_refused_every_decision(officers, role, refused):
    staff = StaffUserFactory(roles=[role])
    withdrawal = requested("40.00")
    hold = services.withdrawal_place_hold(actor=officers[0], withdrawal=withdrawal, reason="check")
    before = snapshot(TABLES)
    client = verified_client(staff)
    for what in refused:
        if what in ("approve", "mark_paid"):
            response = client.post(QUEUE, {"action": what, "_selected_action": [withdrawal.pk]})
        else:
            data = {"what": what, "reason": "because", "hold": str(hold.pk)}
            response = client.post(f"{QUEUE}{withdrawal.pk}/decide/", data)
        assert response.status_code == 403, what
        assert snapshot(TABLES) == before, what
