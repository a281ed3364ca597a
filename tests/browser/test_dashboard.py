"""A Finance Officer signs in and reads the start page's dashboard in a real browser (issue 18): the money of the
last 30 days per currency, a chart each (static/pitboss/dashboard.js with unfold's own Chart.js: the harness fails
on any request to another origin or console error), the totals beside them, and the at-a-glance tiles, in the light
and the dark theme. A month of play in two currencies (deposits, bets, wins, a bonus and its forfeit, posted at their
days with time-machine), counted into the operator day rollups by their consumer. Screenshots:
var/screenshots/dashboard-finance*.png."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from apps.players.models import Player
from apps.reports import rollups
from apps.staff import roles
from apps.wallet import posting
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_accessibility import problems_on
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("role_groups", "geo_rules"),
    # the outbox's nudge is a send_task, which eager mode leaves to the broker (as in every committed test)
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]
D = Decimal


def at(days_ago: int, hour: int) -> Any:
    moment = (timezone.now() - timedelta(days=days_ago)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return time_machine.travel(moment.astimezone(UTC), tick=False)


def play(player: Player, n: int, stake: str, win: str) -> None:
    # table games: no per-spin stake cap (the UK's GBP 5 applies to slots)
    common = {"currency": player.currency, "game_category": "table", "provider": "evolution", "api_client": "pfx"}
    posting.wallet_bet(player=player, amount=D(stake), round_id=f"r{n}", reference=f"b{n}", **common)
    if D(win):
        posting.wallet_win(player=player, amount=D(win), round_id=f"r{n}", reference=f"w{n}", **common)


def a_month_of_play() -> None:
    """Players in GB (GBP) and Malta (EUR) depositing and playing every day of the last 30, winning some days."""
    gb = [PlayerFactory(country="GB", currency="GBP") for _ in range(3)]
    mt = [PlayerFactory(country="MT", currency="EUR") for _ in range(2)]
    n = 0
    for ago in range(29, -1, -1):
        for i, player in enumerate(gb + mt):
            if (ago + i) % 3 == 0:
                continue  # not everyone plays every day
            n += 1
            with at(ago, 9 + i):
                posting.wallet_deposit(player=player, amount=D(30 + 5 * ((ago + i) % 4)), currency=player.currency)
                stake = D(10 + (ago * 7 + i * 3) % 15)
                win = stake * D("1.6") if (ago + i) % 4 == 0 else stake * D("0.4")
                play(player, n, str(stake), str(win.quantize(D("0.01"))))
    with at(12, 10):
        posting.wallet_bonus_award(player=mt[0], amount=D("25.00"), currency="EUR")
    with at(5, 10):
        posting.wallet_bonus_forfeit(player=mt[0], currency="EUR")


def test_a_finance_officer_reads_the_money_of_the_last_30_days_on_the_start_page(staff_browser):
    a_month_of_play()
    rollups.drain()
    finance = staff_browser.login(
        StaffUserFactory(roles=[roles.FINANCE_OFFICER], first_name="Fiona", last_name="Figures")
    )
    page = finance.page
    page.locator("canvas[data-dashboard-chart][data-drawn=true]").first.wait_for()
    currencies = [c.get_attribute("data-currency") for c in page.locator("canvas[data-dashboard-chart]").all()]
    assert currencies == ["EUR", "GBP"]
    drawn = page.evaluate(
        """() => Array.from(document.querySelectorAll('canvas[data-dashboard-chart]')).map(canvas => {
            const chart = Chart.getChart(canvas);
            return chart ? [chart.data.datasets.map(d => d.label), chart.data.labels.length] : null;
        })"""
    )
    assert drawn == [[["GGR", "NGR", "Deposits"], 30]] * 2
    finance.shot("dashboard-finance")
    assert problems_on(page) == []  # labels, contrast, borders (tests/browser/a11y.js)
    eur = finance.inner_text("table.money-totals[data-currency=EUR]")
    assert "Deposits" in eur and "GGR" in eur and "NGR" in eur and "EUR" in eur
    assert finance.locator("#glance li[data-tile=active_players]").get_attribute("data-count") == "5"
    assert finance.locator("#glance li[data-tile=cases]").count() == 0  # the wall: no case counts for Finance
    page.evaluate("document.getElementById('dashboard').scrollIntoView({block: 'start'})")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-finance-panel.png"))
    page.emulate_media(color_scheme="dark")
    page.evaluate("document.documentElement.classList.add('dark')")
    finance.shot("dashboard-finance-dark")
