"""Finance's main task in a real browser: a large withdrawal is approved on its own page by one Finance Officer,
by a second one (the second approver), and marked paid. Each step is a full-page screenshot under var/screenshots/
(withdrawal-*.png) for a person to judge; the harness fails on any 4xx/5xx, console error or other origin."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.wallet import posting, services
from apps.wallet.models import Withdrawal
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("role_groups", "geo_rules"),
]


@pytest.fixture
def withdrawal(settings) -> Withdrawal:
    settings.WITHDRAWAL_SECOND_APPROVAL_THRESHOLD = Decimal("1000")
    player = PlayerFactory(first_name="Ada", last_name="Byron", currency="GBP")
    posting.wallet_deposit(
        player=player,
        amount=Decimal("3000.00"),
        currency="GBP",
        payment_method="card",
        instrument_fingerprint="4f1c" * 16,
        reference="psp-8812",
    )
    return services.withdrawal_request(player=player, amount=Decimal("2500.00"), currency="GBP", payment_method="card")


def test_two_finance_officers_approve_a_withdrawal_on_its_page_and_it_is_marked_paid(staff_browser, withdrawal):
    first = staff_browser.login(StaffUserFactory(roles=["Finance Officer"], first_name="Fiona", last_name="First"))
    first.goto("/admin/wallet/withdrawal/")
    row = first.locator("#result_list tbody tr").filter(has_text="Ada Byron")
    assert "GBP 2,500.00" in row.inner_text() and "GBP 500.00" in row.inner_text()  # the amount and the cash left
    first.shot("withdrawal-1-queue")
    row.locator("th a, td.field-id a").first.click()
    first.page.wait_for_selector("#withdrawal-decisions")
    assert "an approval now is the first of two" in first.inner_text("#withdrawal-decisions")
    assert first.inner_text("#player-can-withdraw") == "yes"
    first.shot("withdrawal-2-first-officer-page")
    first.click("#decide-approve button")
    first.page.wait_for_selector("#second-approver")
    assert "you approved first, someone else must" in first.inner_text("#withdrawal-decisions")
    assert first.locator("#decide-approve").count() == 0
    first.shot("withdrawal-3-waiting-for-second-approver")

    second = staff_browser.login(StaffUserFactory(roles=["Finance Officer"], first_name="Sam", last_name="Second"))
    second.goto(f"/admin/wallet/withdrawal/{withdrawal.pk}/change/")
    assert "Approve (second approver)" in second.inner_text("#decide-approve")
    second.shot("withdrawal-4-second-officer-page")
    second.fill("#decide-approve input[name=reason]", "card and name match the deposits")
    second.click("#decide-approve button")
    second.page.wait_for_selector("#decide-paid")
    assert "approved, awaiting payout" in second.inner_text("body")
    assert second.locator("#decide-approve").count() == 0
    second.shot("withdrawal-5-approved")
    second.click("#decide-paid button")
    second.page.wait_for_selector("#no-decisions")
    assert "marked paid" in second.inner_text("body")
    assert "nothing left to decide" in second.inner_text("#withdrawal-decisions")
    second.shot("withdrawal-6-paid")

    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.first_approver.last_name, withdrawal.second_approver.last_name) == (
        "paid",
        "First",
        "Second",
    )
    second.goto("/admin/wallet/withdrawal/")
    assert "Ada Byron" not in second.inner_text("#changelist")  # paid: out of the default queue


def test_a_finance_officer_is_told_on_the_field_that_a_debit_exceeds_the_cash(staff_browser, withdrawal):
    officer = staff_browser.login(StaffUserFactory(roles=["Finance Officer"]))
    player = withdrawal.player  # GBP 500.00 cash left
    officer.goto(f"/admin/wallet/adjustment/add/?player={player.external_id}")
    officer.fill("input[name=amount_text]", "-99999")
    officer.fill("textarea[name=reason], input[name=reason]", "duplicate deposit")
    officer.click("button[name=_save], input[name=_save]")
    officer.page.wait_for_selector("text=Cash is 500.00 GBP: a debit cannot exceed it.")
    officer.shot("adjustment-1-debit-refused")
    assert not player.adjustments.exists()
    officer.fill("input[name=amount_text]", "-50.00")
    officer.click("button[name=_save], input[name=_save]")
    officer.page.wait_for_selector("text=Adjustment #")
    assert "of Ada Byron, \u2212GBP 50.00: posted." in officer.inner_text("body")
    officer.shot("adjustment-2-posted")


def test_a_hold_stops_the_approval_until_a_finance_officer_releases_it(staff_browser, withdrawal):
    officer = staff_browser.login(StaffUserFactory(roles=["Finance Officer"]))
    officer.goto(f"/admin/wallet/withdrawal/{withdrawal.pk}/change/")
    officer.click("#decide-hold button")  # no reason: the browser asks for one, nothing is posted
    assert withdrawal.holds.count() == 0
    officer.fill("#reason-hold", "source of funds: payslips requested")
    officer.click("#decide-hold button")
    officer.page.wait_for_selector("#hold-warning")
    assert officer.locator("#decide-approve").count() == 0
    assert "source of funds: payslips requested" in officer.inner_text("#withdrawal-holds")
    officer.shot("withdrawal-7-held")
    hold = withdrawal.holds.get()
    officer.fill(f"#release-{hold.pk}", "payslips received")
    officer.click(f"#withdrawal-holds button:has-text('Release hold #{hold.pk}')")
    officer.page.wait_for_selector("#decide-approve")
    assert f"hold #{hold.pk} released" in officer.inner_text("body")
    officer.shot("withdrawal-8-released")
