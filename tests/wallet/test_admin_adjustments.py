"""Manual adjustments in the admin (password + 2FA session): the add form refuses on its field what the request
would refuse (a debit beyond the cash, an amount that is not one), says once what it made and names it, and the
adjustment's page lets a second person approve or reject it (never without a reason, never the requester)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from apps.approvals.models import Approval
from apps.audit.models import AuditEvent
from apps.staff import roles
from apps.staff.models import StaffUser
from apps.wallet import posting, services
from apps.wallet.models import Adjustment, LedgerTransaction
from apps.wallet.posting import InsufficientFunds
from tests.conftest import verified_client
from tests.factories import PlayerFactory, StaffUserFactory
from tests.refusals import assert_refused, snapshot

pytestmark = pytest.mark.django_db
D = Decimal
ADD = "/admin/wallet/adjustment/add/"
TABLES = (Adjustment, Approval, AuditEvent, LedgerTransaction)


@pytest.fixture
def ada():
    player = PlayerFactory(first_name="Ada", last_name="Byron", currency="GBP")
    posting.wallet_deposit(player=player, amount=D("20.00"), currency="GBP")
    return player


@pytest.fixture
def finance() -> tuple[StaffUser, StaffUser]:
    return StaffUserFactory(roles=[roles.FINANCE_OFFICER]), StaffUserFactory(roles=[roles.FINANCE_OFFICER])


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def add(staff: StaffUser, player, amount: str, reason: str = "compensation"):
    data = {"player_external_id": player.external_id, "amount_text": amount, "reason": reason}
    return verified_client(staff).post(ADD, data, follow=True)


@pytest.mark.parametrize("amount", ["-99999.00", "\u221299999", "-20.01"])
def test_it_refuses_a_debit_beyond_the_cash_on_the_amount_field_and_saves_nothing(ada, finance, amount):
    before = snapshot(TABLES)
    response = add(finance[0], ada, amount)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["amount_text"] == ["Cash is 20.00 GBP: a debit cannot exceed it."]
    assert said(response) == [] and snapshot(TABLES) == before


@pytest.mark.parametrize("amount", ["99,999", "ten", "0.001"])
def test_it_refuses_what_is_not_an_amount_on_the_amount_field(ada, finance, amount):
    before = snapshot(TABLES)
    response = add(finance[0], ada, amount)
    assert response.context["adminform"].form.errors["amount_text"] and snapshot(TABLES) == before


def test_the_request_itself_refuses_a_debit_beyond_the_cash(ada, finance):
    assert_refused(
        lambda: services.adjustment_request(actor=finance[0], player=ada, amount="-99999.00", reason="x"),
        "insufficient_funds",
        tables=TABLES,
    )
    with pytest.raises(InsufficientFunds):
        services.adjustment_check(player=ada, amount="-20.01")
    assert services.adjustment_check(player=ada, amount="-20.00") == D("-20.00")


def test_a_debit_within_the_cash_is_posted_and_said_once_by_name(ada, finance):
    response = add(finance[0], ada, "-15.00")
    adjustment = Adjustment.objects.get()
    assert adjustment.status == "posted"
    assert said(response) == [f"Adjustment #{adjustment.pk} of Ada Byron, \u2212GBP 15.00: posted."]
    assert posting.balances(ada.pk, "GBP")["cash"] == "5.00"
    listed = verified_client(finance[0]).get("/admin/wallet/adjustment/").content.decode()
    assert "\u2212GBP 15.00" in listed and "-15.0000" not in listed


def test_above_the_threshold_it_waits_for_a_second_approver_and_says_so_once(ada, finance):
    response = add(finance[0], ada, "500.00")
    adjustment = Adjustment.objects.get()
    assert said(response) == [
        f"Adjustment #{adjustment.pk} of Ada Byron, +GBP 500.00: waiting for a second approver "
        "(above the threshold, another staff member approves it)."
    ]
    assert "None" not in response.content.decode().split("<main")[-1]


def page(staff: StaffUser, adjustment: Adjustment) -> str:
    return verified_client(staff).get(f"/admin/wallet/adjustment/{adjustment.pk}/change/").content.decode()


def decide(staff: StaffUser, adjustment: Adjustment, **data: str):
    return verified_client(staff).post(f"/admin/wallet/adjustment/{adjustment.pk}/decide/", data, follow=True)


def test_a_second_person_rejects_on_its_page_only_with_a_reason(ada, finance):
    maker, checker = finance
    adjustment = services.adjustment_request(actor=maker, player=ada, amount="500.00", reason="lost win")
    html = page(checker, adjustment)
    assert 'id="adjustment-reject"' in html and 'maxlength="500" required' in html
    before = snapshot(TABLES)
    refused = decide(checker, adjustment, what="reject", reason="  ")
    assert said(refused) == [
        f"Adjustment #{adjustment.pk} of Ada Byron, +GBP 500.00: nothing changed. A reason is required."
    ]
    assert snapshot(TABLES) == before
    done = decide(checker, adjustment, what="reject", reason="no complaint on file")
    assert said(done) == [f"Adjustment #{adjustment.pk} of Ada Byron, +GBP 500.00: rejected."]
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.decision_reason) == ("rejected", "no complaint on file")
    assert "Decision: no complaint on file" in page(checker, adjustment)
    assert 'id="adjustment-reject"' not in page(checker, adjustment)


def test_a_second_person_approves_on_its_page_and_it_is_posted(ada, finance):
    maker, checker = finance
    adjustment = services.adjustment_request(actor=maker, player=ada, amount="500.00", reason="lost win")
    done = decide(checker, adjustment, what="approve")
    assert said(done) == [f"Adjustment #{adjustment.pk} of Ada Byron, +GBP 500.00: posted."]
    assert posting.balances(ada.pk, "GBP")["cash"] == "520.00"


def test_the_requester_is_offered_no_decision_and_one_posted_directly_is_refused(ada, finance):
    maker, _ = finance
    adjustment = services.adjustment_request(actor=maker, player=ada, amount="500.00", reason="lost win")
    html = page(maker, adjustment)
    assert "Your own request" in html and 'id="adjustment-approve"' not in html
    before = snapshot(TABLES)
    refused = decide(maker, adjustment, what="approve")
    assert said(refused) == [
        f"Adjustment #{adjustment.pk} of Ada Byron, +GBP 500.00: nothing changed. "
        "A second, different staff member must decide."
    ]
    assert snapshot(TABLES) == before


@pytest.mark.parametrize("role", [roles.SUPPORT_AGENT, roles.MLRO, roles.ADMINISTRATOR])
def test_a_role_without_approve_adjustment_is_refused_the_decision(ada, finance, role):
    adjustment = services.adjustment_request(actor=finance[0], player=ada, amount="500.00", reason="lost win")
    before = snapshot(TABLES)
    response = verified_client(StaffUserFactory(roles=[role])).post(
        f"/admin/wallet/adjustment/{adjustment.pk}/decide/", {"what": "approve"}
    )
    assert response.status_code == 403 and snapshot(TABLES) == before
