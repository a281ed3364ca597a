"""apps.approvals through the real kinds the wallet and player protection register: who may ask and decide,
maker != checker (the service and the database), thresholds per currency, the rolling total, the decision
applied by the owning app in the same transaction, and the audit trail of each step."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, ProgrammingError, transaction
from django.utils import timezone

from apps.approvals import selectors, services
from apps.approvals.models import Approval
from apps.approvals.registry import kind_for, kinds
from apps.audit.models import AuditEvent
from apps.responsible import services as responsible
from apps.wallet import posting
from apps.wallet import services as wallet
from apps.wallet.models import Adjustment, Withdrawal
from tests.factories import PlayerFactory, StaffUserFactory
from tests.refusals import app_tables, assert_refused, codes_raised_by

pytestmark = pytest.mark.django_db
D = Decimal
FINANCE = ["Finance Officer"]
TABLES = app_tables("approvals", "wallet", "responsible", "players")


@pytest.fixture
def one_to_one(settings):
    """GBP at 1 per EUR, so the sums below read plainly."""
    settings.CURRENCY_RATES_PER_EUR = {"EUR": D("1"), "GBP": D("1"), "KWD": D("0.31")}
    return settings


def funded(player, amount="5000.00"):
    posting.wallet_deposit(player=player, amount=D(amount), currency=player.currency)
    return player


def cash(player):
    return posting.balances(player.pk, player.currency)["cash"]


def test_the_kinds_are_registered_by_their_apps():
    codes = {k.code for k in kinds()}
    assert {"wallet.withdrawal", "wallet.adjustment", "responsible.lift", "responsible.correction"} <= codes
    assert kind_for("responsible.lift").threshold_setting is None  # always a second person
    with pytest.raises(LookupError):
        kind_for("nobody.registered_this")


# --- maker != checker ---------------------------------------------------------------------------------------


def test_the_maker_cannot_decide_their_own_request(player):
    maker, checker = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    adjustment = wallet.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    approval = selectors.pending_for(adjustment)
    assert_refused(
        lambda: services.approval_decide(actor=maker, approval=approval, approve=True), "same_approver", tables=TABLES
    )
    services.approval_decide(actor=checker, approval=approval, approve=True)
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.approved_by) == ("posted", checker)


def test_the_database_refuses_a_checker_who_is_the_maker_and_any_change_once_decided(player):
    maker = StaffUserFactory(roles=FINANCE)
    adjustment = wallet.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    approval = selectors.pending_for(adjustment)
    with pytest.raises(IntegrityError, match="approvals_checker_not_maker"), transaction.atomic():
        Approval.objects.filter(pk=approval.pk).update(checker=maker)
    with pytest.raises(IntegrityError, match="approvals_decision_has_checker"), transaction.atomic():
        Approval.objects.filter(pk=approval.pk).update(state="approved", decided_at=timezone.now())
    services.approval_decide(actor=StaffUserFactory(roles=FINANCE), approval=approval, approve=False, reason="no")
    with pytest.raises(IntegrityError, match="already rejected"), transaction.atomic():
        Approval.objects.filter(pk=approval.pk).update(state="pending")
    with pytest.raises(ProgrammingError, match="Cannot delete"), transaction.atomic():
        Approval.objects.filter(pk=approval.pk).delete()


# --- permissions, asked and re-checked -----------------------------------------------------------------------


def test_a_maker_without_the_kinds_permission_cannot_ask(player):
    administrator = StaffUserFactory(roles=["Administrator"])  # sees the wallet, may not adjust
    refusal = assert_refused(
        lambda: wallet.adjustment_request(actor=administrator, player=player, amount="5.00", reason="goodwill"),
        "approval_not_permitted",
        tables=TABLES,
    )
    assert refusal.status == 403


def test_a_checker_whose_role_was_removed_after_the_request_is_refused(player):
    maker, checker = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    adjustment = wallet.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    assert checker.has_perm("wallet.approve_adjustment")  # the permission cache says yes...
    checker.groups.remove(Group.objects.get(name="Finance Officer"))  # ...the database, since, says no
    assert_refused(
        lambda: wallet.adjustment_decide(actor=checker, adjustment=adjustment, approve=True),
        "approval_not_permitted",
        tables=TABLES,
    )
    assert Adjustment.objects.get(pk=adjustment.pk).status == "pending"


def test_a_second_request_for_the_same_target_waits_for_the_first(player):
    maker = StaffUserFactory(roles=FINANCE)
    adjustment = wallet.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    assert_refused(
        lambda: services.approval_request(
            actor=maker, kind="wallet.adjustment", target=adjustment, reason="again", amount=D("500.00"), currency="GBP"
        ),
        "approval_pending",
        tables=TABLES,
    )


def test_a_decided_request_is_not_decided_again_and_a_rejection_needs_a_reason(player):
    maker, checker = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    adjustment = wallet.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    approval = selectors.pending_for(adjustment)
    assert_refused(
        lambda: services.approval_decide(actor=checker, approval=approval, approve=False, reason="  "),
        "reason_required",
        tables=TABLES,
    )
    services.approval_decide(actor=checker, approval=approval, approve=False, reason="no evidence")
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.decision_reason, adjustment.approved_by) == (
        "rejected",
        "no evidence",
        checker,
    )
    assert_refused(
        lambda: services.approval_decide(actor=checker, approval=approval, approve=True),
        "approval_not_pending",
        tables=TABLES,
    )


def test_the_module_has_a_test_for_every_code_it_raises():
    tested = {"same_approver", "approval_not_permitted", "approval_pending", "approval_not_pending"}
    tested |= {"reason_required", "invalid"}  # invalid: test_a_reason_with_control_characters_is_refused
    assert codes_raised_by(services) <= tested


def test_a_reason_with_control_characters_is_refused(player):
    maker, checker = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    adjustment = wallet.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    assert_refused(
        lambda: services.approval_decide(
            actor=checker, approval=selectors.pending_for(adjustment), approve=False, reason="no\x1b[2J"
        ),
        "invalid",
        tables=TABLES,
    )


# --- thresholds per currency -----------------------------------------------------------------------------------


def test_1999_kwd_needs_two_people_1999_eur_does_not(settings):
    settings.ADJUSTMENT_SECOND_APPROVAL_THRESHOLD = D("2000")  # EUR
    maker = StaffUserFactory(roles=FINANCE)
    kuwaiti = PlayerFactory(currency="KWD")
    european = PlayerFactory(currency="EUR", country="MT")
    kwd = wallet.adjustment_request(actor=maker, player=kuwaiti, amount="1999.000", reason="lost win")
    eur = wallet.adjustment_request(actor=maker, player=european, amount="1999.00", reason="lost win")
    assert (kwd.status, eur.status) == ("pending", "posted")
    assert selectors.pending_for(kwd).amount_eur == (D("1999") / settings.CURRENCY_RATES_PER_EUR["KWD"]).quantize(
        D("0.0001")
    )
    assert selectors.for_target(eur).get().state == "below_threshold"


def test_a_large_withdrawal_in_gbp_is_measured_in_eur(settings):
    settings.WITHDRAWAL_SECOND_APPROVAL_THRESHOLD = D("2000")  # EUR; GBP at 0.85 by default: 1,700 GBP
    first = StaffUserFactory(roles=FINANCE)
    below = funded(PlayerFactory())
    above = funded(PlayerFactory())
    small = wallet.withdrawal_approve(
        actor=first, withdrawal=wallet.withdrawal_request(player=below, amount=D("1699.00"), currency="GBP")
    )
    large = wallet.withdrawal_approve(
        actor=first, withdrawal=wallet.withdrawal_request(player=above, amount=D("1700.00"), currency="GBP")
    )
    assert (small.status, large.status) == ("approved", "pending")
    assert selectors.pending_for(large).maker == first


def test_a_currency_without_a_rate_always_needs_a_second_person(settings, player):
    settings.CURRENCY_RATES_PER_EUR = {"EUR": D("1")}
    adjustment = wallet.adjustment_request(
        actor=StaffUserFactory(roles=FINANCE), player=player, amount="0.01", reason="rounding"
    )
    assert adjustment.status == "pending"
    event = AuditEvent.objects.filter(action="approval.requested").latest("id")
    assert event.data["why"] == "no rate" and event.data["needs_checker"] is True


# --- the rolling total ---------------------------------------------------------------------------------------


def test_twenty_adjustments_of_100_are_checked_once_their_total_crosses_the_threshold(one_to_one, player):
    one_to_one.ADJUSTMENT_SECOND_APPROVAL_THRESHOLD = D("1000")
    maker = StaffUserFactory(roles=FINANCE)
    statuses = [
        wallet.adjustment_request(actor=maker, player=player, amount="100.00", reason=f"goodwill {n}").status
        for n in range(20)
    ]
    assert statuses == ["posted"] * 9 + ["pending"] * 11  # 900 went alone; from 1,000 a second person checks
    assert cash(player) == "900.00"
    # another maker, or another player, starts from nothing; so does the same maker a day later
    other = StaffUserFactory(roles=FINANCE)
    assert wallet.adjustment_request(actor=other, player=player, amount="100.00", reason="x").status == "posted"
    assert wallet.adjustment_request(actor=maker, player=PlayerFactory(), amount="100.00", reason="x").status == (
        "posted"
    )
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1)):
        assert wallet.adjustment_request(actor=maker, player=player, amount="100.00", reason="x").status == "posted"


def test_debits_count_towards_the_rolling_total_too(one_to_one, player):
    one_to_one.ADJUSTMENT_SECOND_APPROVAL_THRESHOLD = D("150")
    maker = StaffUserFactory(roles=FINANCE)
    assert wallet.adjustment_request(actor=maker, player=player, amount="100.00", reason="credit").status == "posted"
    assert wallet.adjustment_request(actor=maker, player=player, amount="-60.00", reason="debit").status == "pending"


def test_withdrawals_count_per_player_whoever_approved_them(one_to_one):
    """A withdrawal is the player's request: splitting it across approvers (or requests) does not split the
    total. The window is the player's withdrawals approved by one person in the last 24 hours."""
    one_to_one.WITHDRAWAL_SECOND_APPROVAL_THRESHOLD = D("100")
    player = funded(PlayerFactory(), "500.00")
    first, second = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    w1 = wallet.withdrawal_approve(
        actor=first, withdrawal=wallet.withdrawal_request(player=player, amount=D("60.00"), currency="GBP")
    )
    w2 = wallet.withdrawal_approve(
        actor=second, withdrawal=wallet.withdrawal_request(player=player, amount=D("60.00"), currency="GBP")
    )
    assert (w1.status, w2.status) == ("approved", "pending")
    wallet.withdrawal_approve(actor=first, withdrawal=w2)
    w2.refresh_from_db()
    assert (w2.status, w2.first_approver, w2.second_approver) == ("approved", second, first)


# --- decisions applied by the owning app, audited ---------------------------------------------------------------


def test_an_approval_audits_the_request_the_decision_and_the_application(player):
    maker, checker = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    adjustment = wallet.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    approval = selectors.pending_for(adjustment)
    services.approval_decide(actor=checker, approval=approval, approve=True, reason="ticket 42")
    trail = list(
        AuditEvent.objects.filter(target_type="approvals.approval", target_id=str(approval.pk))
        .order_by("id")
        .values_list("action", "actor_id")
    )
    assert trail == [
        ("approval.requested", str(maker.pk)),
        ("approval.approved", str(checker.pk)),
        ("approval.applied", str(checker.pk)),
    ]
    assert AuditEvent.objects.filter(action="adjustment.approved", actor_id=str(checker.pk)).exists()
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.decision_reason) == ("posted", "ticket 42") and cash(player) == "500.00"


def test_a_refusal_by_the_owning_app_rolls_the_decision_back(player):
    maker, checker = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    funded(player, "500.00")
    adjustment = wallet.adjustment_request(actor=maker, player=player, amount="-500.00", reason="clawback")
    wallet.withdrawal_request(player=player, amount=D("0.01"), currency="GBP")  # the cash moved since
    approval = selectors.pending_for(adjustment)
    assert_refused(
        lambda: services.approval_decide(actor=checker, approval=approval, approve=True),
        "insufficient_funds",
        tables=TABLES,
    )
    assert Approval.objects.get(pk=approval.pk).state == "pending"


def test_a_withdrawal_decided_in_the_inbox_is_the_withdrawals_decision():
    player = funded(PlayerFactory())
    first, second = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    big = wallet.withdrawal_approve(
        actor=first, withdrawal=wallet.withdrawal_request(player=player, amount=D("2500.00"), currency="GBP")
    )
    services.approval_decide(actor=second, approval=selectors.pending_for(big), approve=True)
    big.refresh_from_db()
    assert (big.status, big.second_approver) == ("approved", second)
    other = wallet.withdrawal_approve(
        actor=first, withdrawal=wallet.withdrawal_request(player=player, amount=D("2000.00"), currency="GBP")
    )
    services.approval_decide(actor=second, approval=selectors.pending_for(other), approve=False, reason="fraud check")
    other.refresh_from_db()
    assert (other.status, other.decision_reason) == ("rejected", "fraud check")
    assert cash(player) == "2500.00"  # 5,000 - 2,500 approved; the rejected 2,000 is back


def test_a_hold_placed_after_the_first_approval_stops_the_second(player):
    player = funded(player)
    first, second = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    withdrawal = wallet.withdrawal_approve(
        actor=first, withdrawal=wallet.withdrawal_request(player=player, amount=D("2500.00"), currency="GBP")
    )
    wallet.withdrawal_place_hold(actor=second, withdrawal=withdrawal, reason="chargeback")
    assert_refused(
        lambda: services.approval_decide(actor=second, approval=selectors.pending_for(withdrawal), approve=True),
        "withdrawal_on_hold",
        tables=TABLES,
    )


def test_a_withdrawal_cancelled_by_the_player_cancels_its_pending_approval(player):
    player = funded(player)
    first = StaffUserFactory(roles=FINANCE)
    withdrawal = wallet.withdrawal_request(player=player, amount=D("2500.00"), currency="GBP", api_client="c1")
    wallet.withdrawal_approve(actor=first, withdrawal=withdrawal)
    approval = selectors.pending_for(withdrawal)
    wallet.withdrawal_cancel(withdrawal=withdrawal, api_client="c1")
    approval.refresh_from_db()
    assert approval.state == "cancelled" and approval.decision_reason == "cancelled by the player"
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "cancelled"


def test_the_first_approver_rejecting_withdraws_their_approval_another_rejecting_decides_it(player):
    player = funded(player)
    first, second = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    mine = wallet.withdrawal_approve(
        actor=first, withdrawal=wallet.withdrawal_request(player=player, amount=D("2100.00"), currency="GBP")
    )
    approval = selectors.pending_for(mine)
    wallet.withdrawal_reject(actor=first, withdrawal=mine, reason="player asked by phone")
    approval.refresh_from_db()
    assert (approval.state, approval.checker) == ("cancelled", None)
    theirs = wallet.withdrawal_approve(
        actor=first, withdrawal=wallet.withdrawal_request(player=player, amount=D("2100.00"), currency="GBP")
    )
    approval = selectors.pending_for(theirs)
    wallet.withdrawal_reject(actor=second, withdrawal=theirs, reason="source of funds unclear")
    approval.refresh_from_db()
    assert (approval.state, approval.checker, approval.decision_reason) == (
        "rejected",
        second,
        "source of funds unclear",
    )


def test_a_lift_decided_in_the_inbox_rechecks_the_checkers_authority(support_agent, mlro, player):
    block = responsible.operator_exclude(actor=support_agent, player=player, reason="chasing losses")
    responsible.operator_lift_request(actor=support_agent, exclusion=block, reason="affordability checked")
    approval = selectors.pending_for(block, kind="responsible.lift")
    no_authority = StaffUserFactory()  # decide_lift, but not acting for responsible gambling
    no_authority.user_permissions.add(Permission.objects.get(codename="decide_lift"))
    assert_refused(
        lambda: services.approval_decide(actor=no_authority, approval=approval, approve=True),
        "authority_required",
        tables=TABLES,
    )
    services.approval_decide(actor=mlro, approval=approval, approve=True)
    block.refresh_from_db()
    assert block.lift_approved_by == mlro and not block.in_force()


def test_a_correction_refused_in_the_inbox_is_refused_on_the_correction(support_agent, mlro, player):
    exclusion = responsible.self_exclude(actor=None, player=player, term="5y")
    correction = responsible.exclusion_correction_request(
        actor=support_agent, exclusion=exclusion, term="1y", reason="typo"
    )
    services.approval_decide(
        actor=mlro, approval=selectors.pending_for(correction), approve=False, reason="the recording says 5y"
    )
    correction.refresh_from_db()
    assert (correction.approved, correction.decided_by) == (False, mlro)
    assert AuditEvent.objects.filter(action="rg.correction_refused").latest("id").data["reason"] == (
        "the recording says 5y"
    )
