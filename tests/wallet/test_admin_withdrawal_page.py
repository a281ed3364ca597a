"""The withdrawal's own page and the queue, as Finance uses them (password + 2FA session): the decisions offered
per state, refusals of out-of-state decisions posted directly, reasons, the second approver, `can()` re-run at the
decision, what the page shows about the player, and a queue of what needs work without a query per row."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.api.services import api_client_create
from apps.approvals.models import Approval
from apps.audit.models import AuditEvent
from apps.players.restrictions import player_set_block
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
TABLES = (Withdrawal, WithdrawalHold, LedgerTransaction, AuditEvent, Approval)
DECISIONS = ("approve", "paid", "failed", "reject", "hold")


@pytest.fixture
def officers() -> tuple[StaffUser, StaffUser]:
    return StaffUserFactory(roles=[roles.FINANCE_OFFICER]), StaffUserFactory(roles=[roles.FINANCE_OFFICER])


@pytest.fixture(autouse=True)
def threshold(settings):
    settings.WITHDRAWAL_SECOND_APPROVAL_THRESHOLD = D("1000.00")


def requested(amount: str = "40.00", **player: object) -> Withdrawal:
    person = PlayerFactory(**player)
    posting.wallet_deposit(
        player=person, amount=D("2000.00"), currency="GBP", payment_method="card", instrument_fingerprint="f" * 64
    )
    return services.withdrawal_request(player=person, amount=D(amount), currency="GBP")


def page(staff: StaffUser, withdrawal: Withdrawal) -> str:
    response = verified_client(staff).get(f"{QUEUE}{withdrawal.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def decide(staff: StaffUser, withdrawal: Withdrawal, **data: object):
    return verified_client(staff).post(f"{QUEUE}{withdrawal.pk}/decide/", data, follow=True)


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def offered(html: str) -> set[str]:
    return {what for what in (*DECISIONS, "release") if f'name="what" value="{what}"' in html}


def in_state(state: str, officer: StaffUser) -> Withdrawal:
    withdrawal = requested()
    if state in ("approved", "paid", "failed"):
        services.withdrawal_approve(actor=officer, withdrawal=withdrawal)
    if state == "paid":
        services.withdrawal_settle(actor=officer, withdrawal=withdrawal, paid=True)
    if state == "failed":
        services.withdrawal_settle(actor=officer, withdrawal=withdrawal, paid=False, reason="bank said no")
    if state == "rejected":
        services.withdrawal_reject(actor=officer, withdrawal=withdrawal, reason="duplicate")
    if state == "cancelled":
        services.withdrawal_cancel(withdrawal=withdrawal, api_client="")
    if state == "held":
        services.withdrawal_place_hold(actor=officer, withdrawal=withdrawal, reason="source of funds")
    withdrawal.refresh_from_db()
    return withdrawal


@pytest.mark.parametrize(
    ("state", "decisions"),
    [
        ("pending", {"approve", "reject", "hold"}),
        ("held", {"reject", "hold", "release"}),
        ("approved", {"paid", "failed", "reject", "hold"}),
        ("paid", set()),
        ("failed", set()),
        ("rejected", set()),
        ("cancelled", set()),
    ],
)
def test_it_offers_only_the_decisions_that_fit_the_state(officers, state, decisions):
    withdrawal = in_state(state, officers[1])
    html = page(officers[0], withdrawal)
    assert offered(html) == decisions
    if not decisions:
        assert "there is nothing left to decide" in html


def test_it_offers_the_first_approver_no_second_approval_and_says_so(officers):
    first, second = officers
    withdrawal = requested("1500.00")
    assert "an approval now is the first of two" in page(first, withdrawal)
    response = decide(first, withdrawal, what="approve")
    name = f"Withdrawal #{withdrawal.pk} of {withdrawal.player.first_name} {withdrawal.player.last_name}, GBP 1,500.00"
    assert said(response) == [f"{name}: waiting for a second approver; you approved first, someone else must."]
    mine = page(first, withdrawal)
    assert "Waiting for a second approver: you approved first, someone else must." in mine
    assert offered(mine) == {"reject", "hold"}
    theirs = page(second, withdrawal)
    assert offered(theirs) == {"approve", "reject", "hold"} and "Approve (second approver)" in theirs
    assert f"First approval by {first}" in theirs


def test_the_first_approver_posting_a_second_approval_directly_is_refused(officers):
    first, _ = officers
    withdrawal = requested("1500.00")
    decide(first, withdrawal, what="approve")
    before = snapshot(TABLES)
    response = decide(first, withdrawal, what="approve")
    assert any("second, different staff member" in m for m in said(response))
    assert snapshot(TABLES) == before


def test_two_finance_officers_approve_on_the_page_and_it_is_marked_paid(officers):
    first, second = officers
    withdrawal = requested("1500.00")
    decide(first, withdrawal, what="approve", reason="")
    response = decide(second, withdrawal, what="approve", reason="checked the card")
    assert said(response)[-1].endswith(": approved, awaiting payout.")
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.first_approver, withdrawal.second_approver) == ("approved", first, second)
    assert offered(page(first, withdrawal)) == {"paid", "failed", "reject", "hold"}
    response = decide(first, withdrawal, what="paid")
    assert said(response)[-1].endswith(": marked paid.")
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    assert posting.balances(withdrawal.player_id, "GBP")["pending_withdrawal"] == "0.00"
    actions = set(AuditEvent.objects.filter(target_id=str(withdrawal.pk)).values_list("action", flat=True))
    assert {"withdrawal.first_approval", "withdrawal.approved", "withdrawal.paid"} <= actions


@pytest.mark.parametrize("state", ["paid", "rejected", "failed", "cancelled"])
def test_out_of_state_decisions_posted_directly_are_refused_and_change_nothing(officers, state):
    officer = officers[0]
    withdrawal = in_state(state, officers[1])
    hold = WithdrawalHold.objects.create(withdrawal=withdrawal, kind="manual", authority="finance", reason="x")
    before = snapshot(TABLES)
    for what in (*DECISIONS, "release"):
        response = decide(officer, withdrawal, what=what, reason="because", hold=str(hold.pk))
        messages = said(response)
        assert response.status_code == 200 and len(messages) == 1, what
        assert "nothing changed" in messages[0] and f"The withdrawal is {state}." in messages[0], what
        assert snapshot(TABLES) == before, what


def test_pay_and_fail_before_approval_and_approve_after_approval_are_refused(officers):
    officer = officers[0]
    pending = requested()
    before = snapshot(TABLES)
    for what in ("paid", "failed"):
        assert any("The withdrawal is pending." in m for m in said(decide(officer, pending, what=what, reason="r")))
    approved = in_state("approved", officers[1])
    assert any("is approved" in m for m in said(decide(officer, approved, what="approve")))
    assert snapshot(TABLES)["wallet.Withdrawal"][0] == before["wallet.Withdrawal"][0]


@pytest.mark.parametrize("what", ["reject", "hold", "failed", "release"])
def test_a_decision_that_needs_a_reason_is_refused_without_one(officers, what):
    officer = officers[0]
    withdrawal = in_state("approved", officers[1])
    hold = services.withdrawal_place_hold(actor=officer, withdrawal=withdrawal, reason="check")
    before = snapshot(TABLES)
    response = decide(officer, withdrawal, what=what, reason="   ", hold=str(hold.pk))
    assert any("A reason is required." in m for m in said(response))
    assert snapshot(TABLES) == before
    field = f'id="release-{hold.pk}"' if what == "release" else f'id="reason-{what}"'
    required = 'name="reason" class="border border-base-200 rounded-default px-3 py-2 w-full" maxlength="500" required>'
    assert f"{field} {required}" in page(officer, withdrawal)  # the browser asks for it first, too


def test_approving_re_runs_can_at_the_moment_of_the_decision(officers):
    first, second = officers
    withdrawal = requested("1500.00")
    decide(first, withdrawal, what="approve")
    # blocked after the first approval; the hold the block placed is released, so only can() stands in the way
    player_set_block(actor=first, player=withdrawal.player, capability="withdrawal", blocked=True, reason="fraud")
    hold = WithdrawalHold.objects.get(withdrawal=withdrawal, released_at__isnull=True)
    services.withdrawal_release_hold(actor=first, hold=hold, reason="the block speaks for itself")
    html = page(second, withdrawal)
    assert "The player may not withdraw now" in html and "no: withdrawals are blocked" in html
    before = snapshot(TABLES)
    response = decide(second, withdrawal, what="approve")
    assert said(response) == [
        f"Withdrawal #{withdrawal.pk} of {withdrawal.player.first_name} {withdrawal.player.last_name}, GBP 1,500.00: "
        "nothing changed. The player may not withdraw now: withdrawals are blocked."
    ]
    assert snapshot(TABLES) == before


def test_the_page_shows_the_players_balance_status_blocks_deposits_and_instruments(officers):
    withdrawal = requested("40.00", first_name="Ada", last_name="Byron")
    player_set_block(actor=officers[0], player=withdrawal.player, capability="bonus", blocked=True, reason="abuse")
    html = page(officers[0], withdrawal)
    assert "Ada Byron" in html and "GBP 1,960.00" in html  # cash after the request
    assert 'id="player-blocks">bonus blocked<' in html and 'id="player-can-withdraw">yes<' in html
    assert "GBP 2,000.00" in html and "card" in html and "in (deposit)" in html


def test_the_queue_shows_what_needs_work_and_the_closed_ones_only_through_the_filter(officers):
    officer = officers[0]
    by_state = {state: in_state(state, officer) for state in ("pending", "held", "approved", "paid", "rejected")}
    client = verified_client(officer)

    def listed(query: str = "") -> set[int]:
        response = client.get(f"{QUEUE}{query}")
        return {w.pk for w in response.context["cl"].result_list}

    work = {by_state[s].pk for s in ("pending", "held", "approved")}
    assert listed() == work
    assert listed("?status=paid") == {by_state["paid"].pk}
    assert listed("?status=held") == {by_state["held"].pk}
    assert listed("?status=all") == {w.pk for w in by_state.values()}


def test_the_queue_separates_first_and_second_approvals(officers):
    first, second = officers
    untouched, approved_once = requested("1500.00"), requested("1500.00")
    services.withdrawal_approve(actor=first, withdrawal=approved_once)
    client = verified_client(second)

    def listed(query: str) -> set[int]:
        return {w.pk for w in client.get(f"{QUEUE}{query}").context["cl"].result_list}

    assert listed("?status=first") == {untouched.pk}
    assert listed("?status=second") == {approved_once.pk}
    # the start page's links (a status and a plain lookup) land on the same rows
    assert listed("?status=pending&first_approver__isnull=False") == {approved_once.pk}


def test_the_queue_names_the_player_and_the_api_client_without_a_query_per_row(officers):
    officer = officers[0]
    client_row, _ = api_client_create(actor=None, name="Payments page", scopes=["wallet:read"])
    player = PlayerFactory(first_name="Ada", last_name="Byron", country="GB")
    posting.wallet_deposit(player=player, amount=D("500.00"), currency="GBP")
    services.withdrawal_request(player=player, amount=D("40.00"), currency="GBP", api_client=client_row.prefix)
    client = verified_client(officer)
    html = client.get(QUEUE).content.decode()
    assert "Ada Byron" in html and "Payments page" in html and client_row.prefix not in html
    assert "GBP 460.00" in html and ">GB<" in html
    with CaptureQueriesContext(connection) as few:
        client.get(QUEUE)
    for _ in range(5):
        requested()
    with CaptureQueriesContext(connection) as many:
        client.get(QUEUE)
    assert len(many) == len(few)


@pytest.mark.parametrize("role", [roles.SUPPORT_AGENT, roles.CRM_MANAGER, roles.KYC_OFFICER])
def test_a_role_without_the_withdrawal_view_gets_no_page(role):
    withdrawal = requested()
    response = verified_client(StaffUserFactory(roles=[role])).get(f"{QUEUE}{withdrawal.pk}/change/")
    assert response.status_code == 403 and b"GBP 1,960.00" not in response.content


def test_mlro_may_hold_but_is_offered_no_approval(officers):
    withdrawal = requested()
    html = page(StaffUserFactory(roles=[roles.MLRO]), withdrawal)
    assert offered(html) == {"hold"}
