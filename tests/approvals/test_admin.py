"""The Approvals inbox through the 2FA admin: who sees it (approvals.view_approval granted and denied), what each
member sees, approving and rejecting (with a reason) from the inbox, and no decision offered to the maker."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils.html import escape

from apps.approvals import selectors
from apps.approvals.models import Approval
from apps.audit.models import AuditEvent
from apps.responsible import services as responsible
from apps.staff import roles
from apps.wallet import posting
from apps.wallet import services as wallet
from apps.wallet.models import Adjustment
from tests.conftest import verified_client
from tests.factories import PlayerFactory, StaffUserFactory
from tests.refusals import snapshot

pytestmark = pytest.mark.django_db
INBOX = "/admin/approvals/approval/"
TABLES = (Approval, Adjustment, AuditEvent)


def pending_adjustment(maker=None):
    maker = maker or StaffUserFactory(roles=[roles.FINANCE_OFFICER])
    adjustment = wallet.adjustment_request(actor=maker, player=PlayerFactory(), amount="500.00", reason="lost win")
    return adjustment, selectors.pending_for(adjustment)


@pytest.mark.parametrize("role", [roles.KYC_OFFICER, roles.CRM_MANAGER])
def test_a_role_without_view_approval_is_refused_the_inbox(role):
    _, approval = pending_adjustment()
    staff = StaffUserFactory(roles=[role])
    assert not staff.has_perm("approvals.view_approval")
    client = verified_client(staff)
    assert client.get(INBOX).status_code == 403
    before = snapshot(TABLES)
    assert client.post(f"{INBOX}{approval.pk}/change/", {"_decision": "approve"}).status_code == 403
    assert snapshot(TABLES) == before


def test_a_finance_officer_approves_from_the_inbox_and_it_is_audited():
    adjustment, approval = pending_adjustment()
    checker = StaffUserFactory(roles=[roles.FINANCE_OFFICER])
    assert checker.has_perm("approvals.view_approval")
    client = verified_client(checker)
    page = client.get(INBOX).content.decode()
    assert "Manual adjustment" in page and "GBP 500.00" in page and "lost win" in page
    assert f"/admin/wallet/adjustment/{adjustment.pk}/change/" in page  # the target's link
    # in words: the target's kind and number, the player's name and external id (not "wallet.adjustment:1", "#8")
    player = adjustment.player
    assert f"Adjustment #{adjustment.pk}" in page and "wallet.adjustment:" not in page
    assert escape(f"{player.first_name} {player.last_name} ({player.external_id})") in page
    detail = client.get(f"{INBOX}{approval.pk}/change/").content.decode()
    assert "Approve and apply" in detail
    response = client.post(f"{INBOX}{approval.pk}/change/", {"_decision": "approve", "reason": "ticket 7"})
    assert response.status_code == 302
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.approved_by) == ("posted", checker)
    event = AuditEvent.objects.filter(action="approval.approved").latest("id")
    assert (event.actor_type, event.actor_id) == ("staff", str(checker.pk))


def test_the_maker_is_offered_no_decision_and_the_server_refuses_one_anyway():
    maker = StaffUserFactory(roles=[roles.FINANCE_OFFICER])
    _adjustment, approval = pending_adjustment(maker)
    client = verified_client(maker)
    detail = client.get(f"{INBOX}{approval.pk}/change/").content.decode()
    assert "Approve and apply" not in detail and "Your own request" in detail
    before = snapshot(TABLES)
    page = client.post(f"{INBOX}{approval.pk}/change/", {"_decision": "approve"}, follow=True).content.decode()
    assert "A second, different staff member must decide." in page
    assert snapshot(TABLES) == before
    client.post(INBOX, {"action": "approve_selected", "_selected_action": [approval.pk]})
    assert snapshot(TABLES) == before


def test_a_rejection_from_the_inbox_needs_a_reason():
    adjustment, approval = pending_adjustment()
    client = verified_client(StaffUserFactory(roles=[roles.FINANCE_OFFICER]))
    before = snapshot(TABLES)
    page = client.post(f"{INBOX}{approval.pk}/change/", {"_decision": "reject"}, follow=True).content.decode()
    assert "A reason is required." in page and snapshot(TABLES) == before
    # the bulk action asks for the reason on its own page first
    data = {"action": "reject_selected", "_selected_action": [approval.pk]}
    asked = client.post(INBOX, data)
    assert asked.status_code == 200 and "Reason (required" in asked.content.decode()
    assert snapshot(TABLES) == before
    client.post(INBOX, {**data, "reason_given": "1", "reason": "no ticket on file"})
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.decision_reason) == ("rejected", "no ticket on file")


def test_the_inbox_filters_by_kind_state_and_age_and_shows_each_member_their_kinds(support_agent, player):
    _adjustment, approval = pending_adjustment()
    block = responsible.operator_exclude(actor=support_agent, player=player, reason="chasing losses")
    responsible.operator_lift_request(actor=support_agent, exclusion=block, reason="affordability checked")
    small = wallet.adjustment_request(
        actor=StaffUserFactory(roles=[roles.FINANCE_OFFICER]), player=player, amount="1.00", reason="goodwill"
    )
    finance = verified_client(StaffUserFactory(roles=[roles.FINANCE_OFFICER]))
    mlro = verified_client(StaffUserFactory(roles=[roles.MLRO]))

    def ids(client, query=""):
        return set(client.get(f"{INBOX}{query}").context["cl"].result_list.values_list("pk", flat=True))

    lift = selectors.pending_for(block).pk
    below = selectors.for_target(small).get().pk
    assert ids(finance) == {approval.pk}  # pending by default; lifts are not Finance's
    assert ids(finance, "?state=all") == {approval.pk, below}
    assert ids(finance, "?state=below_threshold") == {below}
    assert ids(mlro) == {lift}
    assert ids(mlro, "?kind=wallet.adjustment") == set()
    assert ids(finance, "?age=1h") == set()  # nothing has waited an hour yet
    assert verified_client(support_agent).get(f"{INBOX}{approval.pk}/change/").status_code == 404
    assert Decimal(Approval.objects.get(pk=approval.pk).amount) == Decimal("500.00")


def test_the_inbox_messages_name_the_request_its_player_and_amount():
    maker = StaffUserFactory(roles=[roles.FINANCE_OFFICER])
    player = PlayerFactory(first_name="Ada", last_name="Byron")
    posting.wallet_deposit(player=player, amount=Decimal("600.00"), currency=player.currency)
    debit = wallet.adjustment_request(actor=maker, player=player, amount="-500.00", reason="duplicate win")
    approval = selectors.pending_for(debit)
    name = f"Adjustment #{debit.pk} of Ada Byron, \u2212{player.currency} 500.00"
    assert str(approval) == f"Adjustment #{debit.pk}, \u2212{player.currency} 500.00: waiting for a second approver"
    client = verified_client(StaffUserFactory(roles=[roles.FINANCE_OFFICER]))
    refused = client.post(f"{INBOX}{approval.pk}/change/", {"_decision": "reject", "reason": " "}, follow=True)
    messages = [str(m) for m in refused.context["messages"]]
    assert messages == [f"{name}: waiting for a second approver. Nothing changed: A reason is required."]
    done = client.post(f"{INBOX}{approval.pk}/change/", {"_decision": "approve"}, follow=True)
    assert [str(m) for m in done.context["messages"]] == [f"{name}: approved and applied."]
    assert "None" not in str(Approval.objects.get(pk=approval.pk))
