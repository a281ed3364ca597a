"""The bonus count as a CRM segment criterion (declared by apps/bonuses/segment_criteria.py, registered by the
CRM): ever and within a window, both bounds, and refused values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.bonuses.choices import BonusState, Source
from apps.bonuses.models import PlayerBonus
from apps.crm.errors import SegmentCriteriaInvalid
from tests.bonuses.personas import template_row
from tests.crm.test_criteria import ext, found
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db


def bonuses(player, n: int, *, days_ago: int = 1) -> None:
    template = template_row()
    at = timezone.now() - timedelta(days=days_ago)
    for _ in range(n):
        PlayerBonus.objects.create(
            player=player,
            template=template,
            source=Source.MANUAL,
            currency="GBP",
            state=BonusState.COMPLETED,
            activated_at=at,
        )


def test_the_bonus_count_ever_and_in_a_window():
    none, one, three, old = PlayerFactory(), PlayerFactory(), PlayerFactory(), PlayerFactory()
    bonuses(one, 1)
    bonuses(three, 3)
    bonuses(old, 2, days_ago=100)
    assert found({"bonus_count": {"min": 1}}) == ext(one, three, old)
    assert found({"bonus_count": {"max": 0}}) == ext(none)
    assert found({"bonus_count": {"min": 2, "max": 2}}) == ext(old)
    assert found({"bonus_count": {"min": 1, "days": 30}}) == ext(one, three)
    assert found({"bonus_count": {"min": 1, "max": 2, "days": 30}}) == ext(one)


@pytest.mark.parametrize(
    "value", [{}, {"min": -1}, {"min": "x"}, {"min": 3, "max": 1}, {"min": True}, {"min": 1, "days": 0}, [1], {"x": 1}]
)
def test_refused_values(value):
    with pytest.raises(SegmentCriteriaInvalid):
        found({"bonus_count": value})
