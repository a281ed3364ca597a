"""The demo AML work: suspicious behaviour played out through the wallet raises the seed rules' alerts and opens
cases; the demo analyst has worked three of them (one waits for the demo MLRO); a second run adds nothing."""

from __future__ import annotations

import pytest

from apps.approvals.models import Approval
from apps.audit.services import SystemActor
from apps.compliance import cases, demo
from apps.compliance.choices import CaseState
from apps.compliance.models import Alert, Case
from apps.kyc.demo import seed_levels
from apps.players.demo import seed_players
from apps.staff.demo import seed_staff
from apps.staff.models import StaffUser

pytestmark = pytest.mark.django_db


def test_demo_behaviour_raises_alerts_and_cases_the_analyst_works():
    actor = SystemActor("tests")
    seed_staff(actor=actor, count=None)
    seed_players(600, actor=actor)
    seed_levels()
    lines = demo.seed(actor=actor, count=None)
    fired = set(Alert.objects.values_list("rule__code", flat=True))
    assert {
        "structuring-under-cdd",
        "little-play-withdrawal",
        "many-instruments-7d",
        "deposit-spike",
        "shared-device-ip-card",
        "ip-country-mismatch",
    } <= fired, (fired, lines)
    assert Case.objects.filter(source="alert").count() >= 6
    analyst = StaffUser.objects.get(username=demo.DEMO_ANALYST)
    states = set(cases.cases_visible_to(analyst).values_list("state", flat=True))
    assert {CaseState.IN_PROGRESS, CaseState.WAITING, CaseState.PENDING_APPROVAL} <= states
    pending = Approval.objects.get(kind=cases.CONFIRM_KIND, state="pending")
    assert pending.maker == analyst
    assert demo.seed(actor=actor, count=None) == ["compliance: demo alerts already there"]
