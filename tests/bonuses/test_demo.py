"""The demo bonuses: the demo CRM Manager's templates (published, a draft, one waiting for a second person) and
GB players on the welcome bonus with wagering in progress; a second run adds nothing."""

from __future__ import annotations

import pytest

from apps.audit.services import SystemActor
from apps.bonuses import demo
from apps.bonuses.choices import BonusState, TemplateState
from apps.bonuses.models import BonusTemplate, PlayerBonus
from apps.kyc.demo import seed_levels
from apps.players.demo import seed_players
from apps.staff.demo import seed_staff

pytestmark = pytest.mark.django_db


def test_the_demo_crm_manager_s_templates_and_active_bonuses():
    actor = SystemActor("tests")
    assert demo.seed(actor=actor, count=None) == ["bonuses: no demo CRM Manager, no demo bonuses"]
    seed_staff(actor=actor, count=None)
    seed_players(300, actor=actor)
    seed_levels()
    lines = demo.seed(actor=actor, count=None)
    states = dict(BonusTemplate.objects.values_list("code", "state"))
    assert states[demo.WELCOME] == TemplateState.PUBLISHED and states["demo-gb-free5"] == TemplateState.PUBLISHED
    assert states["demo-mt-reload"] == TemplateState.DRAFT and states["demo-gb-spins"] == TemplateState.PENDING
    active = PlayerBonus.objects.filter(state=BonusState.ACTIVE)
    assert active.count() >= 3, lines
    assert all(0 < b.wagered < b.wagering_required for b in active)
    assert demo.seed(actor=actor, count=None) == ["bonuses: demo templates already there"]
