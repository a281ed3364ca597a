"""The reports' demo seeder: the postings are summed into the rollups at once, and the regulatory returns of the
last closed periods are asked for through their installed schedules; a second seeding asks nothing more."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from apps.audit.services import SystemActor
from apps.core.services import schedule_install
from apps.reports import demo
from apps.reports.models import OperatorDay, PeriodClose, ReportRun
from apps.wallet import posting
from tests.factories import PlayerFactory


@pytest.mark.django_db
def test_the_demo_fills_the_rollups_and_asks_for_the_last_returns(geo_rules: Any) -> None:
    schedule_install(actor=SystemActor("tests"))  # as make db does before seed_demo
    player = PlayerFactory(country="MT", currency="EUR")
    with time_machine.travel(timezone.now() - timedelta(days=40), tick=False):  # a month-end is over since
        posting.wallet_deposit(player=player, amount=Decimal("25.00"), currency="EUR")
    said = demo.seed(actor=None, count=None)
    assert PeriodClose.objects.count() >= 1 and f"{PeriodClose.objects.count()} month-end closes taken" in said[0]
    assert OperatorDay.objects.filter(type="deposit", jurisdiction="MT", amount=Decimal("25.00")).exists()
    assert sorted(ReportRun.objects.values_list("report", "source")) == [
        ("mga_monthly", "schedule"),
        ("uk_quarterly", "schedule"),
    ]
    assert "2 regulatory returns asked for" in said[0]
    assert "runs already there" in demo.seed(actor=None, count=None)[0]
    assert ReportRun.objects.count() == 2
