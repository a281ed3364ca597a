"""Requests nobody decides expire after APPROVAL_PENDING_EXPIRY_HOURS (the hourly task and the command): the
owning app puts its rows where an undecided request leaves them, the trail says so, younger requests stay, and
a request whose target moved on is left pending rather than forced."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from apps.approvals import selectors
from apps.approvals.models import Approval
from apps.approvals.services import approvals_expire
from apps.approvals.tasks import approvals_expire_pending
from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.responsible import services as responsible
from apps.wallet import posting
from apps.wallet import services as wallet
from apps.wallet.models import Adjustment, Withdrawal
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
D = Decimal
FINANCE = ["Finance Officer"]
SYSTEM = SystemActor("tests")


def a_week_later():
    return time_machine.travel(timezone.now() + timedelta(hours=168, minutes=1), tick=False)


def test_an_undecided_adjustment_expires_as_rejected_and_a_younger_one_stays(player, settings):
    settings.APPROVAL_PENDING_EXPIRY_HOURS = 168
    maker = StaffUserFactory(roles=FINANCE)
    old = wallet.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    with time_machine.travel(timezone.now() + timedelta(hours=100), tick=False):
        young = wallet.adjustment_request(actor=maker, player=player, amount="600.00", reason="lost win 2")
    with a_week_later():
        assert approvals_expire(actor=SYSTEM) == {"expired": 1, "skipped": 0}
        assert approvals_expire(actor=SYSTEM) == {"expired": 0, "skipped": 0}  # idempotent
    old.refresh_from_db()
    assert (old.status, old.approved_by, old.decision_reason) == (
        "rejected",
        None,
        "expired: nobody decided within 168 h",
    )
    assert Adjustment.objects.get(pk=young.pk).status == "pending"
    approval = selectors.for_target(old).get()
    assert (approval.state, approval.checker) == ("expired", None)
    assert AuditEvent.objects.filter(action="approval.expired", target_id=str(approval.pk)).exists()
    assert AuditEvent.objects.filter(action="adjustment.expired").exists()


def test_an_expired_second_approval_sends_the_withdrawal_back_to_the_queue(player):
    posting.wallet_deposit(player=player, amount=D("5000.00"), currency="GBP")
    first, other = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    withdrawal = wallet.withdrawal_approve(
        actor=first, withdrawal=wallet.withdrawal_request(player=player, amount=D("2500.00"), currency="GBP")
    )
    with a_week_later():
        assert approvals_expire_pending() == {"expired": 1, "skipped": 0}
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.first_approver) == ("pending", None)
    # a fresh first approval asks again (the first approver may be the same person again, the checker not)
    wallet.withdrawal_approve(actor=first, withdrawal=withdrawal)
    wallet.withdrawal_approve(actor=other, withdrawal=withdrawal)
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "approved"


def test_an_undecided_lift_and_correction_expire_and_the_exclusions_stay(support_agent, player):
    block = responsible.operator_exclude(actor=support_agent, player=player, reason="chasing losses")
    responsible.operator_lift_request(actor=support_agent, exclusion=block, reason="affordability checked")
    own = responsible.self_exclude(actor=SYSTEM, player=player, term="5y")
    correction = responsible.exclusion_correction_request(actor=support_agent, exclusion=own, term="1y", reason="t")
    with a_week_later():
        call_command("approvals_expire")
    block.refresh_from_db()
    correction.refresh_from_db()
    assert block.lift_requested_by_id is None and block.in_force()
    assert (correction.approved, correction.decided_by) == (False, None)
    assert set(Approval.objects.values_list("state", flat=True)) == {"expired"}


def test_a_request_whose_target_moved_on_is_left_pending(player, settings):
    maker = StaffUserFactory(roles=FINANCE)
    adjustment = wallet.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    Adjustment.objects.filter(pk=adjustment.pk).update(status="rejected")  # behind the service's back
    with a_week_later():
        assert approvals_expire(actor=SYSTEM) == {"expired": 0, "skipped": 1}
    assert selectors.pending_for(adjustment) is not None
    settings.APPROVAL_PENDING_EXPIRY_HOURS = 0  # off
    with a_week_later():
        assert approvals_expire(actor=SYSTEM) == {"expired": 0, "skipped": 0}
