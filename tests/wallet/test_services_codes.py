"""Every refusal of apps.wallet.services, through the service itself: the exact code, and nothing changed
(no ledger row, no balance, no withdrawal or hold state, no audit event, no outbox message)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.approvals.models import Approval
from apps.audit.services import SystemActor
from apps.players.models import Player
from apps.players.services import player_set_block
from apps.staff.models import StaffUser
from apps.wallet import posting, services
from apps.wallet.models import Account, Adjustment, Entry, LedgerTransaction, Withdrawal, WithdrawalHold
from tests.factories import PlayerFactory, StaffUserFactory
from tests.refusals import assert_refused, codes_raised_by

pytestmark = pytest.mark.django_db
D = Decimal
TABLES = (Player, Account, LedgerTransaction, Entry, Withdrawal, WithdrawalHold, Adjustment, Approval)


@dataclass
class World:
    player: Player
    maker: StaffUser
    checker: StaffUser

    def pending(self, amount: str = "20.00", api_client: str = "client-a") -> Withdrawal:
        return services.withdrawal_request(player=self.player, amount=D(amount), currency="GBP", api_client=api_client)

    def approved(self) -> Withdrawal:
        return services.withdrawal_approve(actor=self.maker, withdrawal=self.pending())


@pytest.fixture
def world(settings) -> World:
    settings.WITHDRAWAL_SECOND_APPROVAL_THRESHOLD = D("50.00")
    settings.ADJUSTMENT_SECOND_APPROVAL_THRESHOLD = D("100.00")
    player = PlayerFactory()
    posting.wallet_deposit(player=player, amount=D("100.00"), currency="GBP")
    finance = ["Finance Officer"]
    return World(player=player, maker=StaffUserFactory(roles=finance), checker=StaffUserFactory(roles=finance))


Case = Callable[[World], Callable[[], object]]


def hold_without_reason(w: World):
    withdrawal = w.pending()
    return lambda: services.withdrawal_place_hold(actor=w.maker, withdrawal=withdrawal, reason="   ")


def reject_without_reason(w: World):
    withdrawal = w.pending()
    return lambda: services.withdrawal_reject(actor=w.maker, withdrawal=withdrawal, reason="")


def failed_payout_without_reason(w: World):
    withdrawal = w.approved()
    return lambda: services.withdrawal_settle(actor=w.maker, withdrawal=withdrawal, paid=False, reason="")


def adjustment_without_reason(w: World):
    return lambda: services.adjustment_request(actor=w.maker, player=w.player, amount="5.00", reason=" ")


def adjustment_refused_without_reason(w: World):
    adjustment = services.adjustment_request(actor=w.maker, player=w.player, amount="500.00", reason="lost win")
    return lambda: services.adjustment_decide(actor=w.checker, adjustment=adjustment, approve=False, reason="")


def cancel_by_another_client(w: World):
    withdrawal = w.pending(api_client="client-a")
    return lambda: services.withdrawal_cancel(withdrawal=withdrawal, api_client="client-b")


def cancel_a_rejected_one(w: World):
    withdrawal = w.pending()
    services.withdrawal_reject(actor=w.maker, withdrawal=withdrawal, reason="duplicate")
    return lambda: services.withdrawal_cancel(withdrawal=withdrawal, api_client="client-a")


def hold_a_paid_one(w: World):
    withdrawal = w.approved()
    services.withdrawal_settle(actor=w.maker, withdrawal=withdrawal, paid=True)
    return lambda: services.withdrawal_place_hold(actor=w.maker, withdrawal=withdrawal, reason="late doubt")


def reject_a_cancelled_one(w: World):
    withdrawal = w.pending()
    services.withdrawal_cancel(withdrawal=withdrawal, api_client="client-a")
    return lambda: services.withdrawal_reject(actor=w.maker, withdrawal=withdrawal, reason="too late")


def release_a_released_hold(w: World):
    hold = services.withdrawal_place_hold(actor=w.maker, withdrawal=w.pending(), reason="source of funds")
    services.withdrawal_release_hold(actor=w.maker, hold=hold, reason="documents received")
    return lambda: services.withdrawal_release_hold(actor=w.checker, hold=hold, reason="again")


def approve_an_approved_one(w: World):
    withdrawal = w.approved()
    return lambda: services.withdrawal_approve(actor=w.checker, withdrawal=withdrawal)


def approve_a_held_one(w: World):
    withdrawal = w.pending()
    services.withdrawal_place_hold(actor=w.checker, withdrawal=withdrawal, reason="source of funds")
    return lambda: services.withdrawal_approve(actor=w.maker, withdrawal=withdrawal)


def pay_a_held_one(w: World):
    withdrawal = w.approved()
    services.withdrawal_place_hold(actor=w.checker, withdrawal=withdrawal, reason="chargeback reported")
    return lambda: services.withdrawal_settle(actor=w.maker, withdrawal=withdrawal, paid=True)


def approve_a_blocked_players_once_the_hold_is_released(w: World):
    # the block's automatic hold is released by Finance; the block itself still refuses the approval
    withdrawal = w.pending()
    player_set_block(
        actor=SystemActor("tests"), player=w.player, capability="withdrawal", blocked=True, reason="source of funds"
    )
    for hold in withdrawal.holds.all():
        services.withdrawal_release_hold(actor=w.checker, hold=hold, reason="released by mistake")
    return lambda: services.withdrawal_approve(actor=w.maker, withdrawal=withdrawal)


def second_approval_by_the_first_approver(w: World):
    withdrawal = w.pending(amount="60.00")
    services.withdrawal_approve(actor=w.maker, withdrawal=withdrawal)
    return lambda: services.withdrawal_approve(actor=w.maker, withdrawal=withdrawal)


def adjustment_approved_by_its_requester(w: World):
    adjustment = services.adjustment_request(actor=w.maker, player=w.player, amount="500.00", reason="lost win")
    return lambda: services.adjustment_decide(actor=w.maker, adjustment=adjustment, approve=True)


def pay_a_pending_one(w: World):
    withdrawal = w.pending()
    return lambda: services.withdrawal_settle(actor=w.maker, withdrawal=withdrawal, paid=True)


def decide_a_posted_adjustment(w: World):
    adjustment = services.adjustment_request(actor=w.maker, player=w.player, amount="5.00", reason="goodwill")
    return lambda: services.adjustment_decide(actor=w.checker, adjustment=adjustment, approve=True)


def decide_a_decided_adjustment(w: World):
    adjustment = services.adjustment_request(actor=w.maker, player=w.player, amount="500.00", reason="lost win")
    services.adjustment_decide(actor=w.checker, adjustment=adjustment, approve=False, reason="no evidence")
    return lambda: services.adjustment_decide(actor=w.checker, adjustment=adjustment, approve=True)


def withdraw_more_than_cash(w: World):
    return lambda: services.withdrawal_request(player=w.player, amount=D("100.01"), currency="GBP")


def debit_more_than_cash(w: World):
    w.pending(amount="50.00")  # 50.00 of cash left
    return lambda: services.adjustment_request(actor=w.maker, player=w.player, amount="-50.01", reason="correction")


def approve_a_large_debit_beyond_cash(w: World):
    adjustment = services.adjustment_request(actor=w.maker, player=w.player, amount="-100.00", reason="clawback")
    w.pending(amount="0.01")  # the cash moved since the request: the approval checks again
    return lambda: services.adjustment_decide(actor=w.checker, adjustment=adjustment, approve=True)


def request_a_large_debit_beyond_cash(w: World):
    return lambda: services.adjustment_request(actor=w.maker, player=w.player, amount="-100.01", reason="clawback")


def adjustment_of_no_amount(w: World):
    return lambda: services.adjustment_request(actor=w.maker, player=w.player, amount="ten", reason="goodwill")


def withdraw_while_blocked(w: World):
    player_set_block(actor=SystemActor("tests"), player=w.player, capability="withdrawal", blocked=True, reason="t")
    return lambda: services.withdrawal_request(player=w.player, amount=D("1.00"), currency="GBP")


CASES: list[tuple[str, Case]] = [
    ("reason_required", hold_without_reason),
    ("reason_required", reject_without_reason),
    ("reason_required", failed_payout_without_reason),
    ("reason_required", adjustment_without_reason),
    ("reason_required", adjustment_refused_without_reason),
    ("withdrawal_not_found", cancel_by_another_client),
    ("withdrawal_not_open", cancel_a_rejected_one),
    ("withdrawal_not_open", hold_a_paid_one),
    ("withdrawal_not_open", reject_a_cancelled_one),
    ("hold_released", release_a_released_hold),
    ("withdrawal_not_pending", approve_an_approved_one),
    ("withdrawal_on_hold", approve_a_held_one),
    ("withdrawal_on_hold", pay_a_held_one),
    ("blocked_for_withdrawal", approve_a_blocked_players_once_the_hold_is_released),
    ("same_approver", second_approval_by_the_first_approver),
    ("same_approver", adjustment_approved_by_its_requester),
    ("withdrawal_not_approved", pay_a_pending_one),
    ("adjustment_not_pending", decide_a_posted_adjustment),
    ("adjustment_not_pending", decide_a_decided_adjustment),
    ("insufficient_funds", withdraw_more_than_cash),
    ("insufficient_funds", debit_more_than_cash),
    ("insufficient_funds", approve_a_large_debit_beyond_cash),
    ("insufficient_funds", request_a_large_debit_beyond_cash),
    ("amount_invalid", adjustment_of_no_amount),
    ("blocked_for_withdrawal", withdraw_while_blocked),
]


@pytest.mark.parametrize(("code", "case"), CASES, ids=[f"{code}-{case.__name__}" for code, case in CASES])
def test_it_refuses_with_the_code_and_changes_nothing(world, code, case):
    assert_refused(case(world), code, tables=TABLES)


def test_it_has_a_case_for_every_code_the_module_raises():
    assert codes_raised_by(services) <= {code for code, _ in CASES}
