"""The CRM Manager's bonus screens: a template written with the form (field errors and the rule violated on the
page, nothing saved), published from its page, the published template's fixed terms, retiring, the history and
statistics; player bonuses with their wagering and the cancel form; who sees what."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.bonuses import awards
from apps.bonuses.choices import BonusState, Source, TemplateState
from apps.bonuses.models import BonusTemplate
from apps.staff import roles
from tests.bonuses.conftest import deposit, gb_match, gb_player, published
from tests.conftest import verified_client
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
ADD = "/admin/bonuses/bonustemplate/add/"


def form_data(**over: Any) -> dict[str, Any]:
    data = gb_match(code=over.pop("code", "gb-form"))
    data.update(
        {
            "days_to_claim": 7,
            "per_player_limit": 1,
            "priority": 0,
            "wagering_base": "bonus",
            "max_bet_policy": "refuse",
            "withdrawal_policy": "forfeit",
            "valid_from_0": "2026-12-01",
            "valid_from_1": "00:00:00",
            "contribution_slots": "100",
            "contribution_table": "10",
            "contribution_live": "5",
            "contribution_sports": "0",
            "contribution_poker": "0",
            "games": "",
            "excluded_games": "jackpot-6000, mega-moolah",
        }
    )
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_a_crm_manager_writes_a_uk_template_with_the_form(crm):
    client = verified_client(crm)
    assert client.get(ADD).status_code == 200
    response = client.post(ADD, form_data())
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    template = BonusTemplate.objects.get(code="gb-form")
    assert template.state == TemplateState.DRAFT and template.excluded_games == ["jackpot-6000", "mega-moolah"]
    assert template.contributions == {"slots": "100", "table": "10", "live": "5", "sports": "0", "poker": "0"}
    page = client.get(f"/admin/bonuses/bonustemplate/{template.pk}/change/").content.decode()
    assert 'id="bonus-form-publish"' in page and 'id="bonus-template-history"' in page


def test_the_rule_violated_is_on_the_form_and_nothing_is_saved(crm):
    response = verified_client(crm).post(ADD, form_data(wagering_multiplier="12"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "wagering of at most 10x" in html
    assert not BonusTemplate.objects.exists()
    bad = verified_client(crm).post(ADD, form_data(products=["casino", "bingo"], contribution_slots="150"))
    assert bad.status_code == 200 and not BonusTemplate.objects.exists()


def test_publish_and_retire_from_the_template_page(crm):
    client = verified_client(crm)
    client.post(ADD, form_data())
    template = BonusTemplate.objects.get()
    response = client.post(f"/admin/bonuses/bonustemplate/{template.pk}/publish/", {"reason": "Launch"}, follow=True)
    assert response.status_code == 200
    template.refresh_from_db()
    assert template.state == TemplateState.PUBLISHED
    page = client.get(f"/admin/bonuses/bonustemplate/{template.pk}/change/").content.decode()
    assert "The terms are fixed" in page and 'id="bonus-form-retire"' in page
    renamed = client.post(
        f"/admin/bonuses/bonustemplate/{template.pk}/change/", {"name": "Renamed", "description": "", "priority": 1}
    )
    assert renamed.status_code == 302 and BonusTemplate.objects.get().name == "Renamed"
    client.post(f"/admin/bonuses/bonustemplate/{template.pk}/retire/", {"reason": "Over"})
    assert BonusTemplate.objects.get().state == TemplateState.RETIRED
    assert (
        client.get(f"/admin/bonuses/bonustemplate/{template.pk}/publish/").status_code == 404
    )  # a GET decides nothing


def test_a_failed_publication_is_a_message(crm):
    client = verified_client(crm)
    template = published(crm, gb_match(budget="100.00"))
    response = client.post(f"/admin/bonuses/bonustemplate/{template.pk}/publish/", {"reason": "again"}, follow=True)
    assert any("Nothing changed" in str(m) for m in response.context["messages"])


def test_player_bonuses_show_the_wagering_and_support_cancels_with_a_reason(crm):
    template = published(crm, gb_match(budget="100.00"))
    player = gb_player()
    deposit(player, "20.00")
    bonus = awards.bonus_award(
        actor=None, player=player, template=template, source=Source.DEPOSIT, deposit_amount=Decimal("20")
    )
    support = verified_client(StaffUserFactory(roles=[roles.SUPPORT_AGENT]))
    listing = support.get("/admin/bonuses/playerbonus/").content.decode()
    assert player.external_id in listing and "0.00 of 200.00 (0.00%)" in listing
    page = support.get(f"/admin/bonuses/playerbonus/{bonus.pk}/change/").content.decode()
    assert 'id="bonus-progress"' in page and 'id="bonus-form-cancel"' in page
    short = support.post(f"/admin/bonuses/playerbonus/{bonus.pk}/cancel/", {"reason": "no"}, follow=True)
    assert any("Nothing changed" in str(m) for m in short.context["messages"])
    support.post(f"/admin/bonuses/playerbonus/{bonus.pk}/cancel/", {"reason": "The player asked"})
    bonus.refresh_from_db()
    assert bonus.state == BonusState.CANCELLED


@pytest.mark.parametrize("role", [roles.ADMINISTRATOR, roles.KYC_OFFICER])
def test_roles_without_bonuses_see_nothing(role, crm):
    template = published(crm, gb_match(budget="100.00"))
    client = verified_client(StaffUserFactory(roles=[role]))
    assert client.get("/admin/bonuses/bonustemplate/").status_code == 403
    assert client.get("/admin/bonuses/playerbonus/").status_code == 403
    assert client.post(f"/admin/bonuses/bonustemplate/{template.pk}/retire/", {"reason": "x"}).status_code == 403
    assert BonusTemplate.objects.get().state == TemplateState.PUBLISHED


def test_finance_sees_templates_but_cannot_publish(crm):
    client = verified_client(StaffUserFactory(roles=[roles.FINANCE_OFFICER]))
    template = BonusTemplate.objects.get(
        pk=verified_client(crm).post(ADD, form_data()) and BonusTemplate.objects.get().pk
    )
    assert client.get(f"/admin/bonuses/bonustemplate/{template.pk}/change/").status_code == 200
    assert client.post(f"/admin/bonuses/bonustemplate/{template.pk}/publish/", {"reason": "x"}).status_code == 403
    assert client.get(ADD).status_code == 403


def test_the_player_page_section_shows_the_wagering_bar_to_those_who_may_see_it(crm):
    template = published(crm, gb_match(budget="100.00"))
    player = gb_player()
    deposit(player, "20.00")
    awards.bonus_award(
        actor=None, player=player, template=template, source=Source.DEPOSIT, deposit_amount=Decimal("20")
    )
    section = f"/admin/players/player/{player.pk}/section/bonuses/?partial=1"
    html = verified_client(StaffUserFactory(roles=[roles.SUPPORT_AGENT])).get(section).content.decode()
    assert 'id="player-bonuses"' in html and 'role="progressbar"' in html and "Wagered 0.00 of 200.00 GBP" in html
    page = verified_client(StaffUserFactory(roles=[roles.KYC_OFFICER])).get(
        f"/admin/players/player/{player.pk}/change/"
    )
    assert "player-bonuses" not in page.content.decode() and "section/bonuses" not in page.content.decode()
    refused = verified_client(StaffUserFactory(roles=[roles.KYC_OFFICER])).get(section)
    assert refused.status_code in (204, 403, 404) and b"player-bonuses" not in refused.content


@pytest.mark.parametrize("reason", ["x\x00y", "line\x1bbreak", "x" * 501])
def test_a_hostile_reason_is_a_message_and_changes_nothing(crm, reason):
    template = published(crm, gb_match(budget="100.00"))
    player = gb_player()
    bonus = awards.bonus_award(
        actor=crm,
        player=player,
        template=published(crm, gb_match(type="cash", percent=None, min_deposit=None, amount="5.00", budget="50.00")),
        source=Source.MANUAL,
    )
    client = verified_client(crm)
    retired = client.post(f"/admin/bonuses/bonustemplate/{template.pk}/retire/", {"reason": reason}, follow=True)
    assert retired.status_code == 200 and any("Nothing changed" in str(m) for m in retired.context["messages"])
    assert BonusTemplate.objects.get(pk=template.pk).state == TemplateState.PUBLISHED
    cancelled = client.post(f"/admin/bonuses/playerbonus/{bonus.pk}/cancel/", {"reason": reason}, follow=True)
    assert cancelled.status_code == 200 and any("Nothing changed" in str(m) for m in cancelled.context["messages"])
    bonus.refresh_from_db()
    assert bonus.state == BonusState.ACTIVE
