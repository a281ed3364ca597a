"""A withdrawal decision re-checks the player at the moment it is made; restrictions hold open withdrawals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.audit.models import AuditEvent
from apps.players.services import player_set_block, player_set_status
from apps.responsible.services import operator_exclude
from apps.wallet import posting, services
from apps.wallet.models import WithdrawalHold
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def finance():
    return StaffUserFactory(roles=["Finance Officer"]), StaffUserFactory(roles=["Finance Officer"])


@pytest.fixture
def mlro_user():
    return StaffUserFactory(roles=["MLRO"])


def requested(amount="2400.00"):
    player = PlayerFactory(country="GB", currency="GBP")
    posting.wallet_deposit(player=player, amount=D("3000.00"), currency="GBP")
    return player, services.withdrawal_request(player=player, amount=D(amount), currency="GBP")


def refused(code, fn, **kwargs):
    with pytest.raises(Exception) as exc:
        fn(**kwargs)
    assert exc.value.code == code, exc.value


def test_a_suspension_holds_the_open_withdrawal_and_two_officers_cannot_pay_it(finance, mlro_user, settings):
    settings.WITHDRAWAL_SECOND_APPROVAL_THRESHOLD = D("2000.00")
    player, withdrawal = requested()
    player_set_status(actor=mlro_user, player=player, status="suspended", reason="source of funds review")
    player_set_block(
        actor=mlro_user, player=player, capability="withdrawal", blocked=True, reason="source of funds review"
    )
    holds = list(WithdrawalHold.objects.filter(withdrawal=withdrawal, released_at=None))
    assert [h.kind for h in holds] == ["player_restricted", "player_restricted"]
    # the MLRO acts for compliance: Finance reads the hold, so the compliance reason is not copied into it
    assert holds[0].placed_by == mlro_user and "source of funds" not in holds[0].reason
    assert holds[0].reason == "account suspended: compliance review (see the player page)"
    assert AuditEvent.objects.filter(action="withdrawal.hold_placed", target_id=str(withdrawal.pk)).count() == 2
    refused("withdrawal_on_hold", services.withdrawal_approve, actor=finance[0], withdrawal=withdrawal)
    # the holds are on the MLRO's compliance authority: Finance cannot drop them
    assert {h.authority for h in holds} == {"compliance"}
    refused("authority_required", services.withdrawal_release_hold, actor=finance[0], hold=holds[0], reason="ok")
    # an MLRO releases them by mistake: the player is still suspended, and the approval re-runs can()
    for hold in holds:
        services.withdrawal_release_hold(actor=mlro_user, hold=hold, reason="released early")
    refused("account_suspended", services.withdrawal_approve, actor=finance[0], withdrawal=withdrawal)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "pending" and withdrawal.first_approver is None
    assert posting.balances(player.pk, "GBP")["pending_withdrawal"] == "2400.00"


def test_an_approved_withdrawal_is_not_paid_once_the_player_is_blocked(finance, mlro_user):
    player, withdrawal = requested("50.00")
    services.withdrawal_approve(actor=finance[0], withdrawal=withdrawal)
    player_set_block(actor=mlro_user, player=player, capability="withdrawal", blocked=True, reason="review")
    refused("withdrawal_on_hold", services.withdrawal_settle, actor=finance[1], withdrawal=withdrawal, paid=True)
    hold = WithdrawalHold.objects.get(withdrawal=withdrawal)
    services.withdrawal_release_hold(actor=mlro_user, hold=hold, reason="released by mistake")
    refused("blocked_for_withdrawal", services.withdrawal_settle, actor=finance[1], withdrawal=withdrawal, paid=True)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "approved"
    # a failed payout still gives the money back: that never needs the player to be allowed anything
    services.withdrawal_settle(actor=finance[1], withdrawal=withdrawal, paid=False, reason="provider refused")
    assert posting.balances(player.pk, "GBP")["cash"] == "3000.00"


def test_an_operator_withdrawal_block_holds_open_withdrawals_but_other_blocks_do_not(finance, mlro_user):
    player, withdrawal = requested("10.00")
    operator_exclude(actor=mlro_user, player=player, reason="bonus abuse review", capabilities=["deposit"])
    player_set_block(actor=mlro_user, player=player, capability="bet", blocked=True, reason="review")
    assert not WithdrawalHold.objects.exists()
    operator_exclude(actor=mlro_user, player=player, reason="chargeback", capabilities=["withdraw"])
    assert WithdrawalHold.objects.get(withdrawal=withdrawal).kind == "player_restricted"
    refused("withdrawal_on_hold", services.withdrawal_approve, actor=finance[0], withdrawal=withdrawal)


def test_reactivation_holds_nothing_and_closed_withdrawals_are_left_alone(finance, mlro_user):
    player, withdrawal = requested("10.00")
    services.withdrawal_reject(actor=finance[0], withdrawal=withdrawal, reason="duplicate")
    player_set_status(actor=mlro_user, player=player, status="suspended", reason="review")
    player_set_status(actor=mlro_user, player=player, status="active", reason="review done")
    assert not WithdrawalHold.objects.exists()


def test_the_queue_shows_the_players_status_and_blocks_without_the_reason(staff_client, finance, mlro_user):
    player, _withdrawal = requested("10.00")
    player_set_status(actor=mlro_user, player=player, status="suspended", reason="source of funds review")
    player_set_block(actor=mlro_user, player=player, capability="withdrawal", blocked=True, reason="sof")
    page = staff_client(finance[0]).get("/admin/wallet/withdrawal/").content.decode()
    assert "Suspended; blocked: withdrawal" in page


def test_a_finance_hold_is_finances_and_an_adjustment_rejection_keeps_its_reason(finance, mlro_user, settings):
    player, withdrawal = requested("10.00")
    hold = services.withdrawal_place_hold(actor=finance[0], withdrawal=withdrawal, reason="card check")
    assert hold.authority == "finance"
    services.withdrawal_release_hold(actor=finance[1], hold=hold, reason="card fine")
    mlro_hold = services.withdrawal_place_hold(actor=mlro_user, withdrawal=withdrawal, reason="source of funds")
    assert mlro_hold.authority == "compliance"
    refused("authority_required", services.withdrawal_release_hold, actor=finance[1], hold=mlro_hold, reason="x")
    settings.ADJUSTMENT_SECOND_APPROVAL_THRESHOLD = D("1.00")
    adjustment = services.adjustment_request(actor=finance[0], player=player, amount="5.00", reason="goodwill")
    services.adjustment_decide(actor=finance[1], adjustment=adjustment, approve=False, reason="no complaint on file")
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.decision_reason) == ("rejected", "no complaint on file")
