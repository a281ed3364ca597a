"""A CRM Manager reads a bonus template's and a campaign's statistics in a real browser: four weeks of awards,
conversions, forfeits, expiries and cancellations (made at their days with time-machine), the figures table and
the two charts (drawn by static/pitboss/bonus_stats.js with unfold's own Chart.js: the harness fails on any request
to another origin or console error), in the light and the dark theme. Screenshots: var/screenshots/bonus-stats-*."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from apps.bonuses import awards, templates
from apps.bonuses.choices import EndReason, Source
from apps.bonuses.models import BonusTemplate, PlayerBonus
from apps.crm import campaigns, services
from apps.crm.models import Campaign
from apps.players.models import Player
from apps.staff import roles
from apps.wallet import posting
from backoffice.celery import app as celery_app
from tests.bonuses.conftest import gb_match, gb_player
from tests.browser.test_accessibility import problems_on
from tests.factories import StaffUserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("role_groups", "geo_rules"),
    # the outbox's nudge is a send_task, which eager mode leaves to the broker (as in every committed test)
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]
_rounds = iter(range(1, 1_000_000))


def day(days_ago: int, hour: int = 11) -> datetime:
    return (timezone.now() - timedelta(days=days_ago)).replace(hour=hour, minute=0, second=0, microsecond=0)


def template(crm: Any, name: str) -> BonusTemplate:
    data = gb_match(
        name=name,
        type="cash",
        percent=None,
        min_deposit=None,
        amount="10.00",
        wagering_multiplier="1",
        max_conversion="8.00",
        budget="2000.00",
        days_to_wager=7,
        valid_from=day(60).isoformat(),
    )
    draft = templates.template_create(actor=crm, data=data)
    return templates.template_publish(actor=crm, template=draft, reason="Launch")


def play(player: Player, stake: str, win: str | None = None) -> None:
    n = next(_rounds)
    common = {
        "currency": "GBP",
        "round_id": f"ur{n}",
        "game_id": "starburst",
        "provider": "netent",
        "api_client": "pfx",
    }
    posting.wallet_bet(player=player, amount=Decimal(stake), game_category="slots", reference=f"ub-{n}", **common)
    if win:
        posting.wallet_win(player=player, amount=Decimal(win), game_category="slots", reference=f"uw-{n}", **common)


def live(bonus: PlayerBonus, ends: str, at: int, crm: Any) -> None:
    """What became of one bonus, on its day: converted after its wagering, forfeited by a withdrawal, cancelled."""
    with time_machine.travel(day(at, 15), tick=False):
        player = bonus.player
        if ends == "convert":
            for stake, win in (("2.00", "1.00"), ("2.00", None), ("2.00", "4.00"), ("2.00", None), ("2.00", "3.50")):
                play(player, stake, win)
            awards.bonuses_process_due()
        elif ends == "forfeit":
            play(player, "2.00")
            awards.bonus_forfeit(actor=None, bonus=bonus, reason=EndReason.WITHDRAWAL)
        elif ends == "cancel":
            awards.bonus_cancel(actor=crm, bonus=bonus, reason="The player asked to remove it")
        elif ends == "play":
            play(player, "2.00", "1.20")


# (days ago awarded, what became of it, days later)
STORY = [
    (27, "convert", 2), (27, "forfeit", 1), (26, "convert", 3), (25, "expire", 0), (24, "cancel", 0),
    (23, "convert", 1), (23, "convert", 4), (22, "forfeit", 2), (20, "convert", 2), (20, "convert", 2),
    (20, "play", 1), (19, "forfeit", 0), (17, "convert", 3), (16, "convert", 1), (15, "cancel", 1),
    (14, "convert", 2), (13, "forfeit", 3), (12, "convert", 2), (10, "convert", 1), (10, "forfeit", 1),
    (9, "convert", 3), (8, "play", 0), (7, "convert", 2), (6, "cancel", 1), (5, "convert", 1), (4, "forfeit", 1),
    (3, "convert", 1), (2, "play", 0), (1, "play", 0), (0, "play", 0),
]  # fmt: skip


def a_month_of_bonuses(crm: Any) -> BonusTemplate:
    weekend = template(crm, "Weekend GBP 10, no deposit")
    for ago, ends, later in STORY:
        player = gb_player()
        with time_machine.travel(day(ago, 10), tick=False):
            bonus = awards.bonus_award(actor=crm, player=player, template=weekend, source=Source.MANUAL)
        live(bonus, ends, max(ago - later, 0), crm)  # "expire": nothing; a week later the job expires it
    for n in range(6):  # offers: some claimed, some waiting
        with time_machine.travel(day(6 - n, 9), tick=False):
            offered = awards.bonus_offer(
                actor=None, player=gb_player(), template=weekend, source=Source.CAMPAIGN, source_ref=f"o{n}"
            )
            if n % 2 == 0:
                awards.bonus_claim(actor=None, player=offered.player, offer_id=offered.pk)
    return weekend


def a_campaign(crm: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    back = template(crm, "Welcome back GBP 10")
    start = day(12, 8)
    with time_machine.travel(start, tick=False):
        players = [gb_player() for _ in range(12)]
        segment = services.segment_create(actor=crm, name="UK players", criteria={"country": ["GB"]}, currency="GBP")
        campaign = campaigns.campaign_create(
            actor=crm, name="Welcome back, December", segment=segment, template=back, mode="award",
            ends_at=start + timedelta(days=7),
        )  # fmt: skip
        # the job the start queues after its commit runs here and now (Celery's eager mode, for this call only):
        # in this committed test nothing is left in the broker for a later worker to find
        with monkeypatch.context() as eager:
            eager.setitem(celery_app.conf, "task_always_eager", True)
            campaigns.campaign_start(actor=crm, campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).state == "completed"
    outcomes = ["convert", "convert", "forfeit", "play", "convert", "cancel"] * 2
    days = [11, 11, 10, 10, 9, 9, 8, 8, 7, 7, 6, 6]  # before their time to wager ends (day 5)
    for player, ends, at in zip(players, outcomes, days, strict=True):  # in time order, as they happened
        live(PlayerBonus.objects.get(player=player, campaign_id=campaign.pk), ends, at, crm)
    return campaign


def show(page: Any, section: str, name: str) -> None:
    """The whole page, and the viewport with the panel at its top (tall enough for the table and the charts)."""
    page.locator("canvas[data-bonus-chart][data-drawn=true]").first.wait_for()
    page.shot(name)
    page.page.set_viewport_size({"width": 1400, "height": 1250})
    page.page.evaluate(f"document.getElementById('{section}').scrollIntoView({{block: 'start'}})")
    path = page.shot(name).with_name(f"{name}-panel.png")
    page.page.screenshot(path=str(path))


def test_a_crm_manager_reads_a_template_s_and_a_campaign_s_statistics(staff_browser, monkeypatch):
    crm = StaffUserFactory(roles=[roles.CRM_MANAGER], first_name="Cara", last_name="Mgr")
    campaign = a_campaign(crm, monkeypatch)  # first: its segment's snapshot holds only its own twelve players
    weekend = a_month_of_bonuses(crm)
    awards.bonuses_process_due()  # what ran out of time to wager or to claim expires now
    manager = staff_browser.login(crm)
    manager.goto(f"/admin/bonuses/bonustemplate/{weekend.pk}/change/?stats_days=30")
    assert manager.locator("canvas[data-bonus-chart]").count() == 2
    show(manager, "bonus-template-stats", "bonus-stats-template")
    assert problems_on(manager.page) == []  # labels, contrast, borders (tests/browser/a11y.js)
    assert "GBP" in manager.inner_text("#bonus-template-stats [data-stat=bonus_cost]")
    manager.goto(f"/admin/crm/campaign/{campaign.pk}/change/?stats_days=30")
    show(manager, "campaign-stats", "bonus-stats-campaign")
    assert problems_on(manager.page) == []
    assert manager.inner_text("#campaign-stats [data-stat=awarded] td").startswith("12")
    manager.page.emulate_media(color_scheme="dark")
    manager.page.evaluate("document.documentElement.classList.add('dark')")
    show(manager, "campaign-stats", "bonus-stats-campaign-dark")
