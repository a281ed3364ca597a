"""approvals/0003: requests that waited for a second person before apps.approvals became pending approvals,
once (running it again adds nothing), and are then decided like any other."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from apps.approvals import selectors
from apps.approvals.models import Approval
from apps.audit.services import SystemActor
from apps.responsible import services as responsible
from apps.responsible.models import Exclusion, ExclusionCorrection
from apps.wallet import posting
from apps.wallet import services as wallet
from apps.wallet.models import Adjustment, Withdrawal
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
migration = importlib.import_module("apps.approvals.migrations.0003_open_requests")


def test_open_requests_from_before_become_pending_approvals_once(support_agent, mlro):
    finance = StaffUserFactory(roles=["Finance Officer"])
    player = PlayerFactory()
    posting.wallet_deposit(player=player, amount=Decimal("100.00"), currency="GBP")
    # rows as the services left them before apps.approvals: no approval behind them
    adjustment = Adjustment.objects.create(
        player=player, currency="GBP", amount=Decimal("500.00"), reason="lost win", requested_by=finance
    )
    withdrawal = wallet.withdrawal_request(player=player, amount=Decimal("40.00"), currency="GBP")
    Withdrawal.objects.filter(pk=withdrawal.pk).update(first_approver=finance)
    block = responsible.operator_exclude(actor=support_agent, player=player, reason="chasing losses")
    Exclusion.objects.filter(pk=block.pk).update(
        lift_requested_by=support_agent, lift_requested_at=timezone.now(), lift_reason="affordability checked"
    )
    own = responsible.self_exclude(actor=SystemActor("player"), player=PlayerFactory(), term="5y")
    correction = ExclusionCorrection.objects.create(
        exclusion=own, term="1y", ends_at=own.ends_at, reason="typo", requested_by=support_agent
    )
    assert not Approval.objects.exists()

    migration.forwards(django_apps, None)
    migration.forwards(django_apps, None)

    opened = {(a.kind, a.target_id, a.maker_id) for a in Approval.objects.filter(state="pending")}
    assert opened == {
        ("wallet.adjustment", str(adjustment.pk), finance.pk),
        ("wallet.withdrawal", str(withdrawal.pk), finance.pk),
        ("responsible.lift", str(block.pk), support_agent.pk),
        ("responsible.correction", str(correction.pk), support_agent.pk),
    }
    assert selectors.pending_for(block).reason == "affordability checked"
    # and they are decided like any other: by someone else, through the owning service
    checker = StaffUserFactory(roles=["Finance Officer"])
    wallet.withdrawal_approve(actor=checker, withdrawal=withdrawal)
    assert Withdrawal.objects.get(pk=withdrawal.pk).second_approver == checker
    responsible.operator_lift_decide(actor=mlro, exclusion=block, approve=True)
    assert not Exclusion.objects.get(pk=block.pk).in_force()
