"""ggr_daily from the ledger finds each row's local day among its clock's midnights (``ggr_daily._clocks``) instead
of converting every row: the days it gives across a daylight-saving change, before a jurisdiction's first rule pack
(UTC) and on a clock whose local midnight is ambiguous (the conversion, not the midnights) are the days the rollups
give (``apps.reports.rollups``, which convert every row)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from apps.geo.models import Jurisdiction, RulePack
from apps.reports.context import RunContext
from apps.reports.definitions import ggr_daily
from apps.wallet import posting
from tests.factories import PlayerFactory
from tests.reports import finledger

D = Decimal
GGR = ggr_daily.DailyGgr()


def run(start: str, end: str, source: str) -> list[tuple]:
    values, _texts, errors = GGR.clean({"start": start, "end": end, "source": source}, today=date(2026, 12, 1))
    assert errors == {}
    tables = {table.name: [tuple(row) for row in table.rows] for table in GGR.tables(RunContext(), values)}
    return tables["by_day"]


def stake_at(player, when: datetime, amount: str, ref: str) -> None:
    with time_machine.travel(when, tick=False):
        posting.wallet_deposit(player=player, amount=D(amount), currency=player.currency)
        posting.wallet_bet(
            player=player,
            amount=D(amount),
            currency=player.currency,
            round_id=ref,
            game_category="table",
            provider="evo",
            reference=ref,
            api_client="pfx",
        )


def days_and_stakes(start: str, end: str) -> list[tuple]:
    """(day, jurisdiction, stakes) from the ledger, after checking the rollups give the same rows."""
    finledger.fill_rollups()
    from_ledger = run(start, end, "ledger")
    assert from_ledger == run(start, end, "rollups")
    return [(row[0], row[1], row[6]) for row in from_ledger]


@pytest.mark.django_db
def test_the_days_follow_the_clock_across_a_daylight_saving_change():
    player = PlayerFactory()  # GB: GMT until 01:00 UTC on 29 March 2026, then BST (UTC+1)
    stake_at(player, datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "5.00", "b1")  # 23:30 GMT on the 28th
    stake_at(player, datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "4.00", "b2")  # 00:30 GMT on the 29th
    stake_at(player, datetime(2026, 3, 29, 23, 30, tzinfo=UTC), "3.00", "b3")  # 00:30 BST on the 30th
    assert days_and_stakes("2026-03-28", "2026-03-30") == [
        (date(2026, 3, 28), "GB", D("5.00")),
        (date(2026, 3, 29), "GB", D("4.00")),
        (date(2026, 3, 30), "GB", D("3.00")),
    ]
    assert days_and_stakes("2026-03-29", "2026-03-29") == [(date(2026, 3, 29), "GB", D("4.00"))]


@pytest.mark.django_db
def test_before_the_jurisdiction_s_first_rule_pack_the_days_are_utc_days():
    player = PlayerFactory(country="MT", region="MT-01", currency="EUR")  # Malta's until MT-01 has a pack
    stake_at(player, datetime(2026, 5, 10, 20, 0, tzinfo=UTC), "5.00", "b1")  # 10 May in UTC, 11 May in Tokyo
    region = Jurisdiction.objects.create(code="MT-01", name="A region of its own", time_zone="Asia/Tokyo")
    pack = RulePack.objects.filter(jurisdiction__code="MT").order_by("effective_from").first()
    assert pack is not None
    pack.pk, pack.jurisdiction, pack.effective_from = None, region, datetime(2026, 5, 12, tzinfo=UTC)
    pack.save()
    stake_at(player, datetime(2026, 5, 12, 20, 0, tzinfo=UTC), "3.00", "b2")  # 05:00 on 13 May in Tokyo
    assert days_and_stakes("2026-05-10", "2026-05-13") == [
        (date(2026, 5, 10), "MT-01", D("5.00")),
        (date(2026, 5, 13), "MT-01", D("3.00")),
    ]
    assert days_and_stakes("2026-05-11", "2026-05-12") == []


@pytest.mark.django_db
def test_a_clock_whose_midnight_comes_twice_takes_the_conversion():
    # Havana goes back from 01:00 CDT to 00:00 CST on 1 November 2026: 1 November's midnight happens twice and
    # PostgreSQL reads it as the second, an hour after the day began.
    Jurisdiction.objects.filter(code="MT").update(time_zone="America/Havana")
    ctx = RunContext()
    clocks = ggr_daily._clocks(ctx, date(2026, 10, 31), date(2026, 11, 1))
    assert dict(zip(clocks["codes"], clocks["exact"], strict=True))["MT"] is False
    assert dict(zip(clocks["codes"], clocks["exact"], strict=True))["GB"] is True
    player = PlayerFactory(country="MT", currency="EUR")
    stake_at(player, datetime(2026, 11, 1, 3, 30, tzinfo=UTC), "5.00", "b1")  # 23:30 CDT on 31 October
    stake_at(player, datetime(2026, 11, 1, 4, 30, tzinfo=UTC), "3.00", "b2")  # the first 00:30, 1 November
    stake_at(player, datetime(2026, 11, 2, 4, 30, tzinfo=UTC), "2.00", "b3")  # 23:30 CST on 1 November
    assert days_and_stakes("2026-10-31", "2026-11-01") == [
        (date(2026, 10, 31), "MT", D("5.00")),
        (date(2026, 11, 1), "MT", D("5.00")),
    ]
