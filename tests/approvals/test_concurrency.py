"""Two people at once, on real PostgreSQL connections: two checkers deciding one request (exactly one wins), and
two small requests racing past the rolling threshold (exactly one goes through alone)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection

from apps.approvals import selectors, services
from apps.approvals.models import Approval
from apps.core.errors import ApplicationError
from apps.wallet import posting
from apps.wallet import services as wallet
from apps.wallet.models import Adjustment
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("role_groups")]
D = Decimal
FINANCE = ["Finance Officer"]


def race(*calls: Callable[[], object]) -> list[str]:
    """Run the calls at the same moment on their own connections; each outcome is "ok" or the refusal's code."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
            outcomes.append("ok")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        except BaseException as exc:  # a deadlock or a bug: fail loudly
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_two_checkers_deciding_one_request_at_once_exactly_one_wins():
    player = PlayerFactory()
    maker = StaffUserFactory(roles=FINANCE)
    adjustment = wallet.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    approval = selectors.pending_for(adjustment)
    approver, rejecter = StaffUserFactory(roles=FINANCE), StaffUserFactory(roles=FINANCE)
    outcomes = race(
        lambda: services.approval_decide(actor=approver, approval=approval, approve=True),
        lambda: services.approval_decide(actor=rejecter, approval=approval, approve=False, reason="duplicate"),
    )
    assert outcomes == ["approval_not_pending", "ok"]
    decided = Approval.objects.get(pk=approval.pk)
    adjustment.refresh_from_db()
    expected = {"approved": ("posted", "500.00"), "rejected": ("rejected", "0.00")}[decided.state]
    assert (adjustment.status, posting.balances(player.pk, "GBP")["cash"]) == expected


def test_two_small_requests_racing_past_the_threshold_leave_one_for_a_checker(settings):
    settings.CURRENCY_RATES_PER_EUR = {"EUR": D("1"), "GBP": D("1")}
    settings.ADJUSTMENT_SECOND_APPROVAL_THRESHOLD = D("150")
    player, maker = PlayerFactory(), StaffUserFactory(roles=FINANCE)
    outcomes = race(
        lambda: wallet.adjustment_request(actor=maker, player=player, amount="100.00", reason="goodwill a"),
        lambda: wallet.adjustment_request(actor=maker, player=player, amount="100.00", reason="goodwill b"),
    )
    assert outcomes == ["ok", "ok"]
    assert sorted(Adjustment.objects.filter(player=player).values_list("status", flat=True)) == ["pending", "posted"]
    assert posting.balances(player.pk, "GBP")["cash"] == "100.00"
