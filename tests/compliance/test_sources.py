"""Cases other apps' events open: a KYC level-3 requirement (enhanced due diligence) and a responsible-gambling
limit fully used; what they leave alone."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.audit.services import SystemActor
from apps.compliance.choices import CaseSource, CaseType, Priority
from apps.compliance.models import Case
from apps.kyc.choices import Trigger
from apps.kyc.levels import requirement_ask, requirement_raise
from apps.responsible import services as responsible
from apps.staff import roles
from apps.wallet import events, posting
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("tests")
D = Decimal


def test_a_level_3_requirement_opens_one_edd_case():
    player = PlayerFactory()
    requirement_raise(
        actor=ACTOR,
        player=player,
        level=3,
        trigger=Trigger.EDD_THRESHOLD,
        due_at=timezone.now() + timedelta(days=14),
        reason="deposits reached EUR 10,000",
    )
    case = Case.objects.get(player=player)
    assert (case.type, case.source, case.priority) == (CaseType.KYC_EDD, CaseSource.KYC, Priority.MEDIUM)
    assert "deposits reached EUR 10,000" in case.events.get(kind="opened").text
    requirement_raise(
        actor=ACTOR,
        player=player,
        level=3,
        trigger=Trigger.HIGH_RISK_COUNTRY,
        due_at=timezone.now() + timedelta(days=14),
        reason="residence",
    )
    assert Case.objects.filter(player=player).count() == 1  # the open EDD case takes it


def test_lower_levels_and_requirements_asked_from_compliance_open_nothing():
    player = PlayerFactory()
    requirement_raise(
        actor=ACTOR,
        player=player,
        level=2,
        trigger=Trigger.CDD_THRESHOLD,
        due_at=timezone.now() + timedelta(days=14),
        reason="deposits reached EUR 2,000",
    )
    analyst = StaffUserFactory(roles=[roles.AML_ANALYST])
    requirement_ask(actor=analyst, player=player, level=3, reason="source of funds", compliance=True)
    assert not Case.objects.filter(player=player).exists()


def test_a_limit_fully_used_opens_a_responsible_gambling_case_and_80_percent_does_not():
    player = PlayerFactory()
    responsible.limit_set(actor=ACTOR, player=player, kind="deposit", period="day", value="100.00")
    posting.wallet_deposit(player=player, amount=D("85.00"), currency=player.currency)
    events.drain()
    assert not Case.objects.filter(player=player).exists()
    posting.wallet_deposit(player=player, amount=D("15.00"), currency=player.currency)
    events.drain()
    case = Case.objects.get(player=player)
    assert (case.type, case.source, case.priority) == (
        CaseType.RESPONSIBLE_GAMBLING,
        CaseSource.RESPONSIBLE_GAMBLING,
        Priority.LOW,
    )
    assert "deposit / day" in case.events.get(kind="opened").text
