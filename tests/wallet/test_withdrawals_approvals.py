"""The wallet's own screens take the maker-checker decisions through the same services as the Approvals inbox:
approving a withdrawal on its page (first, then a second approver; never the first one twice) and rejecting an
adjustment, which asks for a reason first."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.approvals import selectors
from apps.wallet import posting, services
from apps.wallet.models import Adjustment, Withdrawal
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
D = Decimal
FINANCE = ["Finance Officer"]


def test_a_large_withdrawal_is_approved_on_its_page_by_two_people(staff_client, player):
    posting.wallet_deposit(player=player, amount=D("5000.00"), currency="GBP")
    withdrawal = services.withdrawal_request(player=player, amount=D("2500.00"), currency="GBP")
    first, second = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    page, decide = (
        f"/admin/wallet/withdrawal/{withdrawal.pk}/change/",
        f"/admin/wallet/withdrawal/{withdrawal.pk}/decide/",
    )
    assert "a second approver is needed" in staff_client(first).get(page).content.decode()
    staff_client(first).post(decide, {"what": "approve"})
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.first_approver) == ("pending", first)
    mine = staff_client(first).get(page).content.decode()
    assert "you approved first, someone else must" in mine and 'value="approve"' not in mine
    again = staff_client(first).post(decide, {"what": "approve"}, follow=True).content.decode()
    assert "A second, different staff member must decide." in again
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "pending"
    assert "Approve (second approver)" in staff_client(second).get(page).content.decode()
    staff_client(second).post(decide, {"what": "approve", "reason": "documents checked"})
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.second_approver) == ("approved", second)
    assert selectors.for_target(withdrawal).get().decision_reason == "documents checked"


def test_rejecting_an_adjustment_in_its_list_asks_for_a_reason(staff_client, player):
    maker, checker = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    adjustment = services.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    data = {"action": "reject", "_selected_action": [adjustment.pk]}
    asked = staff_client(checker).post("/admin/wallet/adjustment/", data)
    assert asked.status_code == 200 and "Reject the selected adjustments" in asked.content.decode()
    assert Adjustment.objects.get(pk=adjustment.pk).status == "pending"
    done = staff_client(checker).post(
        "/admin/wallet/adjustment/", {**data, "reason_given": "1", "reason": "no complaint on file"}, follow=True
    )
    assert f"Adjustment #{adjustment.pk} of {player.first_name} {player.last_name}" in done.content.decode()
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.decision_reason, adjustment.approved_by) == (
        "rejected",
        "no complaint on file",
        checker,
    )


# The add form's messages and its refusal of a debit beyond the cash: tests/wallet/test_admin_adjustments.py
