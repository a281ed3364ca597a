"""Bonus statistics (apps/bonuses/stats.py): every figure of a template and of a campaign in exact Decimals
(offered, claimed, awarded, converted, forfeited, expired, lapsed, cancelled, above the maximum conversion, bonus
cost, the NGR effect the ledger's bonus cost account agrees with, GGR while on the bonus), the daily series, two
currencies never added up, and the panel with its chart data on the template's and the campaign's pages for those
who may see them (and nobody else)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from apps.bonuses import awards, stats, templates
from apps.bonuses.choices import EndReason, Source
from apps.bonuses.models import BonusTemplate, PlayerBonus
from apps.crm import campaigns, services
from apps.players.models import Player
from apps.staff import roles
from apps.wallet import posting
from apps.wallet.choices import AccountKind
from apps.wallet.models import Entry
from tests.bonuses.conftest import deposit, gb_match, gb_player, published, se_player, se_welcome, undo
from tests.conftest import verified_client
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
D = Decimal
_rounds = iter(range(1, 1_000_000))


def cash_terms(**over: Any) -> dict[str, Any]:
    """GBP 10 cash, wagered once (GBP 10 of stakes), at most GBP 6 paid as cash, GBP 2 maximum bet."""
    terms = {
        "type": "cash",
        "percent": None,
        "min_deposit": None,
        "amount": "10.00",
        "wagering_multiplier": "1",
        "max_conversion": "6.00",
        "days_to_claim": 3,
        "budget": "1000.00",
        "valid_from": (timezone.now() - timedelta(days=60)).isoformat(),
    }
    return gb_match(**{**terms, **over})


def play(player: Player, stake: str, win: str | None = None) -> str:
    """One slots round: a bet and perhaps its win (credited in the proportion that funded the round)."""
    n = next(_rounds)
    common = {"currency": player.currency, "round_id": f"sr{n}", "game_id": "starburst", "provider": "netent"}
    posting.wallet_bet(
        player=player, amount=D(stake), game_category="slots", reference=f"sbet-{n}", api_client="pfx", **common
    )
    if win:
        posting.wallet_win(
            player=player, amount=D(win), game_category="slots", reference=f"swin-{n}", api_client="pfx", **common
        )
    return f"sbet-{n}"


def manual(crm, player: Player, template: BonusTemplate, **kw: Any) -> PlayerBonus:
    return awards.bonus_award(actor=crm, player=player, template=template, source=Source.MANUAL, **kw)


def offer(player: Player, template: BonusTemplate, ref: str, **kw: Any) -> PlayerBonus:
    return awards.bonus_offer(
        actor=None, player=player, template=template, source=Source.CAMPAIGN, source_ref=ref, **kw
    )


def only(items: list[stats.Figures]) -> stats.Figures:
    assert len(items) == 1, items
    return items[0]


def bonus_cost_entries(currency: str) -> Decimal:
    """The ledger's word: the signed sum of the operator's bonus cost account entries in ``currency``."""
    total = Entry.objects.filter(
        account__player__isnull=True, account__kind=AccountKind.BONUS_COST, currency=currency
    ).aggregate(s=Sum("amount"))["s"]
    return total or D("0")


def a_template_s_world(crm) -> BonusTemplate:
    """Every way a bonus of one GBP template ends, and a SEK template beside it:

    p1 awarded, GBP 10 staked from the bonus, GBP 8 won back: completed, GBP 6 paid (the maximum), GBP 2 forfeited
    p2 offered, claimed, GBP 3 staked and lost, forfeited by a withdrawal request: GBP 7 back
    p3 awarded 40 days ago, never played: expired, GBP 10 back
    p4 awarded, cancelled by staff: GBP 10 back
    p5 offered 5 days ago, not claimed in 3 days: lapsed
    p6 offered, waiting for the player
    p7 awarded, GBP 5 staked, GBP 1 of it rolled back: wagering, GBP 6 on the bonus balance
    p8 offered, then cancelled by staff (no money)
    """
    template = published(crm, cash_terms())
    now = timezone.now()
    p1 = gb_player()
    manual(crm, p1, template)
    for _ in range(4):
        play(p1, "2.00")
    play(p1, "2.00", win="8.00")
    p2 = gb_player()
    claimed = awards.bonus_claim(actor=None, player=p2, offer_id=offer(p2, template, "o-2").pk)
    play(p2, "2.00")
    play(p2, "1.00")
    awards.bonus_forfeit(actor=None, bonus=claimed, reason=EndReason.WITHDRAWAL)
    manual(crm, gb_player(), template, now=now - timedelta(days=40))
    awards.bonus_cancel(actor=crm, bonus=manual(crm, gb_player(), template), reason="Awarded to the wrong player")
    offer(gb_player(), template, "o-5", now=now - timedelta(days=5))
    offer(gb_player(), template, "o-6")
    done = awards.bonuses_process_due()
    assert (done["completed"], done["wager_expired"], done["claim_expired"]) == (1, 1, 1)
    p7 = gb_player()
    manual(crm, p7, template)
    play(p7, "2.00")
    play(p7, "2.00")
    undo(p7, play(p7, "1.00"))
    awards.bonus_cancel(actor=crm, bonus=offer(gb_player(), template, "o-8"), reason="Offered by mistake")
    swede = se_player()
    deposit(swede, "100.00")
    awards.bonus_award(
        actor=None,
        player=swede,
        template=published(crm, se_welcome()),
        source=Source.DEPOSIT,
        deposit_amount=D("100.00"),
    )
    return template


def test_it_counts_every_figure_of_a_template_exactly(crm):
    template = a_template_s_world(crm)
    figures = only(stats.template_figures(template))
    assert figures == stats.Figures(
        currency="GBP",
        offered=4,
        claimed=1,
        awarded=5,
        awarded_amount=D("50.00"),
        active=1,
        open_balance=D("6.00"),
        completed=1,
        converted_amount=D("6.00"),
        forfeited=1,
        forfeited_amount=D("7.00"),
        expired=1,
        expired_amount=D("10.00"),
        lapsed=1,
        cancelled=2,
        cancelled_amount=D("10.00"),
        over_max_conversion=D("2.00"),
        returned_amount=D("29.00"),
        bonus_cost=D("21.00"),
        ngr_effect=D("-21.00"),
        ggr_on_bonus=D("9.00"),  # p1 10 - 8, p2 3, p7 5 - 1
        ngr_on_bonus=D("-12.00"),
    )
    assert (figures.claim_rate, figures.conversion_rate) == (D("25.0"), D("20.0"))
    # the bonus cost is the net debit of the ledger's bonus cost account: converted 6 + lost in play 2 + 3 + 4
    # + still on p7's balance 6
    assert bonus_cost_entries("GBP") == figures.ngr_effect


def test_two_currencies_are_never_added_up(crm):
    a_template_s_world(crm)
    swedish = BonusTemplate.objects.get(currency="SEK")
    figures = only(stats.template_figures(swedish))
    assert (figures.currency, figures.awarded, figures.awarded_amount, figures.bonus_cost) == (
        "SEK",
        1,
        D("100.00"),
        D("100.00"),
    )
    assert figures.ggr_on_bonus == D("0.00") and figures.open_balance == D("100.00")
    assert bonus_cost_entries("SEK") == D("-100.0000")


def test_the_daily_series_counts_awards_conversions_and_forfeits_per_day(crm):
    template = a_template_s_world(crm)
    series = stats.series(template_id=template.pk, days=90)
    today = timezone.now().date()
    assert (series.start, series.end, len(series.days)) == (today - timedelta(days=89), today, 90)
    gbp = series.money["GBP"]
    assert (series.counts["awarded"][-1], gbp["awarded"][-1]) == (4, D("40.00"))
    assert (series.counts["awarded"][-41], gbp["awarded"][-41]) == (1, D("10.00"))  # p3, 40 days ago
    assert (series.counts["converted"][-1], gbp["converted"][-1]) == (1, D("6.00"))
    # ended without conversion: p2, p3, p4 (p8 was an offer: nothing moved); the money is every forfeit posting of
    # the day, p1's GBP 2 above the maximum conversion included
    assert (series.counts["forfeited"][-1], gbp["forfeited"][-1]) == (3, D("29.00"))
    assert sum(series.counts["awarded"]) == 5 and sum(series.counts["forfeited"]) == 3
    assert set(series.money) == {"GBP"}
    chart = series.chart()
    assert chart["money"]["GBP"]["forfeited"][-1] == "29.00" and chart["days"][-1] == today.isoformat()
    recent = stats.series(template_id=template.pk, days=30)
    assert sum(recent.counts["awarded"]) == 4 and len(recent.days) == 30


def test_the_chart_window_is_30_90_or_365_days():
    assert [stats.chart_days(v) for v in ("90", "365", None, "7", "x")] == [90, 365, 30, 30, 30]


def a_campaign(crm, django_capture_on_commit_callbacks) -> Any:
    """Three GB players given GBP 10 by a campaign: one completes (GBP 10 staked, 3 won back: GBP 3 paid), one is
    cancelled (GBP 10 back), one is wagering (GBP 10 on the balance); and a fourth player given the same template
    by hand (not the campaign's)."""
    template = published(crm, cash_terms())
    pa, pb, pc = gb_player(), gb_player(), gb_player()
    segment = services.segment_create(actor=crm, name="UK players", criteria={"country": ["GB"]}, currency="GBP")
    campaign = campaigns.campaign_create(
        actor=crm,
        name="Welcome back",
        segment=segment,
        template=template,
        mode="award",
        ends_at=timezone.now() + timedelta(days=7),
    )
    with django_capture_on_commit_callbacks(execute=False):
        campaigns.campaign_start(actor=crm, campaign=campaign)
    campaigns.campaign_run(campaign_id=campaign.pk)
    for _ in range(4):
        play(pa, "2.00")
    play(pa, "2.00", win="3.00")
    assert awards.bonuses_process_due()["completed"] == 1
    awards.bonus_cancel(actor=crm, bonus=PlayerBonus.objects.get(player=pb), reason="Player asked to stop it")
    assert PlayerBonus.objects.get(player=pc).state == "active"
    manual(crm, gb_player(), template)
    campaign.refresh_from_db()
    return campaign


def test_it_counts_a_campaign_s_bonuses_only(crm, django_capture_on_commit_callbacks):
    campaign = a_campaign(crm, django_capture_on_commit_callbacks)
    figures = only(stats.campaign_figures(campaign))
    assert figures == stats.Figures(
        currency="GBP",
        offered=0,
        claimed=0,
        awarded=3,
        awarded_amount=D("30.00"),
        active=1,
        open_balance=D("10.00"),
        completed=1,
        converted_amount=D("3.00"),
        forfeited=0,
        forfeited_amount=D("0.00"),
        expired=0,
        expired_amount=D("0.00"),
        lapsed=0,
        cancelled=1,
        cancelled_amount=D("10.00"),
        over_max_conversion=D("0.00"),
        returned_amount=D("10.00"),
        bonus_cost=D("20.00"),
        ngr_effect=D("-20.00"),
        ggr_on_bonus=D("7.00"),
        ngr_on_bonus=D("-13.00"),
    )
    assert figures.claim_rate is None
    template = only(stats.template_figures(campaign.template))
    assert (template.awarded, template.awarded_amount, template.bonus_cost) == (4, D("40.00"), D("30.00"))
    assert bonus_cost_entries("GBP") == template.ngr_effect
    series = stats.series(template_id=campaign.template_id, campaign_id=campaign.pk, days=30)
    assert (series.counts["awarded"][-1], series.counts["converted"][-1], series.counts["forfeited"][-1]) == (3, 1, 1)


def chart_data(page: str) -> dict[str, Any]:
    found = re.search(r'<script id="bonus-stats-data" type="application/json">(.*?)</script>', page, re.S)
    assert found, "no chart data on the page"
    return json.loads(found.group(1))


def test_the_template_page_shows_the_panel_and_the_chart_data(crm):
    template = a_template_s_world(crm)
    page = verified_client(crm).get(f"/admin/bonuses/bonustemplate/{template.pk}/change/").content.decode()
    assert 'id="bonus-template-stats"' in page and 'data-bonus-chart="money" data-currency="GBP"' in page
    assert re.search(r'data-stat="bonus_cost".*?GBP 21\.00', page, re.S)
    assert re.search(r'data-stat="ngr_on_bonus".*?\u2212GBP 12\.00', page, re.S)
    assert "pitboss/bonus_stats.js" in page and "cdn" not in page.lower()
    data = chart_data(page)
    assert len(data["days"]) == 30 and data["counts"]["awarded"][-1] == 4
    assert data["money"]["GBP"]["converted"][-1] == "6.00"
    quarter = verified_client(crm).get(f"/admin/bonuses/bonustemplate/{template.pk}/change/?stats_days=90")
    assert chart_data(quarter.content.decode())["counts"]["awarded"][-41] == 1  # p3, 40 days ago


def test_the_campaign_page_shows_the_panel_and_the_chart_data(crm, django_capture_on_commit_callbacks):
    campaign = a_campaign(crm, django_capture_on_commit_callbacks)
    page = verified_client(crm).get(f"/admin/crm/campaign/{campaign.pk}/change/").content.decode()
    assert 'id="campaign-stats"' in page
    assert re.search(r'data-stat="awarded".*?>3<.*?GBP 30\.00', page, re.S)
    assert re.search(r'data-stat="converted".*?GBP 3\.00', page, re.S)
    data = chart_data(page)
    assert data["counts"] == {
        "awarded": [0] * 29 + [3],
        "converted": [0] * 29 + [1],
        "forfeited": [0] * 29 + [1],
    }
    assert data["money"]["GBP"]["awarded"][-1] == "30.00"


def test_a_finance_officer_sees_a_template_s_statistics_and_not_a_campaign_s(crm, django_capture_on_commit_callbacks):
    campaign = a_campaign(crm, django_capture_on_commit_callbacks)
    finance = verified_client(StaffUserFactory(roles=[roles.FINANCE_OFFICER]))  # bonus cost is theirs to read
    page = finance.get(f"/admin/bonuses/bonustemplate/{campaign.template_id}/change/")
    assert page.status_code == 200 and 'id="bonus-template-stats"' in page.content.decode()
    assert finance.get(f"/admin/crm/campaign/{campaign.pk}/change/").status_code == 403


@pytest.mark.parametrize("role", [roles.SUPPORT_AGENT, roles.AML_ANALYST, roles.ADMINISTRATOR])
def test_who_may_not_see_the_template_or_the_campaign_sees_no_statistics(role, crm, django_capture_on_commit_callbacks):
    campaign = a_campaign(crm, django_capture_on_commit_callbacks)
    client = verified_client(StaffUserFactory(roles=[role]))
    for url in (
        f"/admin/bonuses/bonustemplate/{campaign.template_id}/change/",
        f"/admin/crm/campaign/{campaign.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 403 and b"bonus-stats-data" not in response.content


def test_a_draft_s_page_has_no_statistics(crm):
    draft = templates.template_create(actor=crm, data=cash_terms())
    page = verified_client(crm).get(f"/admin/bonuses/bonustemplate/{draft.pk}/change/").content.decode()
    assert 'id="bonus-template-budget"' in page and "bonus-stats-data" not in page


def test_above_the_limit_the_ggr_is_not_computed_and_the_page_says_so(crm, monkeypatch):
    template = a_template_s_world(crm)
    monkeypatch.setattr(stats, "GGR_MAX_BONUSES", 4)  # the template has 5 awarded bonuses
    figures = only(stats.template_figures(template))
    assert (figures.ggr_on_bonus, figures.ngr_on_bonus, figures.bonus_cost) == (None, None, D("21.00"))
    page = verified_client(crm).get(f"/admin/bonuses/bonustemplate/{template.pk}/change/").content.decode()
    assert "not computed above 4 bonuses" in page
    assert only(stats.figures(template_id=template.pk, ggr=False)).ggr_on_bonus is None


def test_a_running_campaign_s_page_leaves_the_ggr_for_when_the_run_is_over(crm, django_capture_on_commit_callbacks):
    template = published(crm, cash_terms())
    for _ in range(3):
        gb_player()
    segment = services.segment_create(actor=crm, name="UK players", criteria={"country": ["GB"]}, currency="GBP")
    campaign = campaigns.campaign_create(
        actor=crm,
        name="Running",
        segment=segment,
        template=template,
        mode="award",
        ends_at=timezone.now() + timedelta(days=7),
    )
    with django_capture_on_commit_callbacks(execute=False):
        campaigns.campaign_start(actor=crm, campaign=campaign)
    campaigns.campaign_chunk(campaign_id=campaign.pk, size=2)  # two of three: still running
    page = verified_client(crm).get(f"/admin/crm/campaign/{campaign.pk}/change/").content.decode()
    assert 'http-equiv="refresh"' in page and "once the run is over" in page
    assert re.search(r'data-stat="awarded".*?>2<.*?GBP 20\.00', page, re.S)


def test_a_free_spins_template_s_cost_is_what_was_forfeited_back(crm):
    """Free spins post no award: their winnings are wins from the house (GGR counts them), so the bonus cost account
    sees only the forfeits, and NGR while on the bonus comes out at what the operator really lost."""
    from apps.wallet.free_spins import free_spin_win

    spins = published(
        crm,
        gb_match(
            type="free_spins",
            percent=None,
            amount=None,
            min_deposit=None,
            spins_count=2,
            spin_stake="0.10",
            games=["starburst"],
            budget="100.00",
        ),
    )

    def spin(player: Player, bonus: PlayerBonus, amount: str) -> None:
        n = next(_rounds)
        free_spin_win(
            player=player,
            amount=D(amount),
            currency="GBP",
            round_id=f"fs{n}",
            bonus_id=bonus.pk,
            game_id="starburst",
            game_category="slots",
            api_client="pfx",
            reference=f"fsw-{n}",
        )

    lucky, unlucky = gb_player(), gb_player()
    won = awards.bonus_award(actor=None, player=lucky, template=spins, source=Source.CAMPAIGN, source_ref="s1")
    spin(lucky, won, "1.20")
    spin(lucky, won, "0.80")  # GBP 2.00 of winnings to wager 10x
    play(lucky, "1.00")  # lost: GBP 1.00 left
    awards.bonus_cancel(actor=crm, bonus=won, reason="The player asked to stop")
    nothing = awards.bonus_award(actor=None, player=unlucky, template=spins, source=Source.CAMPAIGN, source_ref="s2")
    spin(unlucky, nothing, "0.00")
    spin(unlucky, nothing, "0.00")  # nothing won: completed at once, nothing converted
    figures = only(stats.template_figures(spins))
    assert (figures.awarded, figures.awarded_amount, figures.completed, figures.converted_amount) == (
        2,
        D("2.00"),
        1,
        D("0.00"),
    )
    assert (figures.cancelled, figures.cancelled_amount, figures.returned_amount) == (1, D("1.00"), D("1.00"))
    assert (figures.bonus_cost, figures.ngr_effect) == (D("-1.00"), D("1.00"))
    assert bonus_cost_entries("GBP") == figures.ngr_effect
    # GGR: the spins' wins 1.20 + 0.80 paid, the bet 1.00 staked: -1.00; less the bonus cost (-1.00): nothing lost
    assert (figures.ggr_on_bonus, figures.ngr_on_bonus) == (D("-1.00"), D("0.00"))
