"""The player page in a real browser, as the people who work on it (issue 12): a Support Agent blocks deposits
from the player's page, an AML Analyst decides a lift request, and anyone opening a self-excluded player sees it
at the top. Each test saves a full-page screenshot under var/screenshots/ for a person to judge."""

from __future__ import annotations

import pytest

from apps.responsible import services as rg
from apps.responsible.models import Exclusion
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("role_groups")]


def test_a_support_agent_blocks_deposits_from_the_player_page(staff_browser, geo_rules):
    player = PlayerFactory(first_name="Ada", last_name="Byron")
    support = staff_browser.login(StaffUserFactory(roles=["Support Agent"]))
    support.goto(f"/admin/players/player/{player.pk}/change/")
    assert "open" in support.inner_text("#can-deposit")
    support.click("text=Operator exclusion or block…")
    support.page.wait_for_url("**/admin/responsible/exclusion/add/**")
    assert support.input_value("input[name=player_external_id]") == player.external_id
    support.fill("[name=reason]", "Chasing losses on the phone; agreed a deposit block")
    support.page.check("input[name=capabilities][value=deposit]")
    support.click("button[name=_save]")
    support.page.wait_for_url(f"**/admin/players/player/{player.pk}/change/**")
    block = Exclusion.objects.get(player=player)
    body = support.inner_text("body")
    assert f"Operator block of deposit #{block.pk} of Ada Byron ({player.external_id}): in force now." in body
    assert body.count("in force now.") == 1  # one message, not two
    deposit = support.inner_text("#can-deposit")
    assert "closed" in deposit and "blocked by the operator" in deposit.lower() and "Chasing losses" in deposit
    assert "open" in support.inner_text("#can-withdraw") and "open" in support.inner_text("#can-login")
    assert support.inner_text("#status-badge") == "Active, restricted"
    support.shot("player-page-support-blocks-deposits")


def test_an_aml_analyst_decides_a_lift_request(staff_browser, geo_rules):
    player = PlayerFactory(first_name="Ada", last_name="Byron")
    maker = StaffUserFactory(roles=["Support Agent"])
    block = rg.operator_exclude(actor=maker, player=player, reason="Affordability review")
    rg.operator_lift_request(actor=maker, exclusion=block, reason="Payslips received, affordable")
    analyst = staff_browser.login(StaffUserFactory(roles=["AML Analyst"]))
    analyst.goto(f"/admin/players/player/{player.pk}/change/")
    assert "Excluded" in analyst.inner_text("#status-badge")
    analyst.click("text=1 lift request(s) to decide")
    analyst.locator(f"a[href*='/responsible/exclusion/{block.pk}/change/']").first.click()
    analyst.page.wait_for_url(f"**/exclusion/{block.pk}/change/**")
    assert "Payslips received" in analyst.inner_text("#exclusion-decisions")
    analyst.shot("exclusion-lift-to-decide")
    analyst.click("button[value=refuse_lift]")  # without a reason: refused on the page, nothing decided
    analyst.locator("text=a reason is required to refuse a lift request").wait_for()
    assert "a reason is required to refuse a lift request" in analyst.inner_text("body")
    block.refresh_from_db()
    assert block.lift_requested_by_id is not None
    analyst.fill("#exclusion-decisions input[name=reason]", "Payslips checked against deposits")
    analyst.click("button[value=approve_lift]")
    analyst.locator("text=lifted (ends now)").wait_for()
    body = analyst.inner_text("body")
    assert f"Operator exclusion #{block.pk} of Ada Byron ({player.external_id}): lifted (ends now)." in body
    block.refresh_from_db()
    assert not block.in_force() and block.lift_approved_by is not None
    analyst.goto(f"/admin/players/player/{player.pk}/change/")
    assert analyst.inner_text("#status-badge") == "Active"
    analyst.shot("exclusion-lift-approved-player-page")


def test_a_self_excluded_player_reads_self_excluded_at_the_top(staff_browser, geo_rules):
    player = PlayerFactory(first_name="Ada", last_name="Byron")
    rg.self_exclude(actor=None, player=player, term="1y")
    support = staff_browser.login(StaffUserFactory(roles=["Support Agent"]))
    support.goto(f"/admin/players/player/{player.pk}/change/")
    banner = support.inner_text(".player-banner")
    assert banner.startswith("Self-excluded until") and "Withdrawals stay open" in banner
    assert support.inner_text("#status-badge") == "Self-excluded"
    for action in ("login", "deposit", "bet", "game_launch", "bonus", "marketing"):
        row = support.inner_text(f"#can-{action}")
        assert "closed" in row and "self-excluded until" in row.lower(), row
    assert "open" in support.inner_text("#can-withdraw")
    # the banner is above the fold: the first thing on the page
    assert support.locator(".player-banner").bounding_box()["y"] < 300
    support.shot("player-page-self-excluded")


def test_an_administrator_corrects_a_profile_and_the_browser_accepts_the_form(staff_browser, geo_rules):
    from datetime import date

    player = PlayerFactory(first_name="Ada", last_name="Byron", date_of_birth=date(2001, 10, 13))
    admin = staff_browser.login(StaffUserFactory(roles=["Administrator"]))
    admin.goto(f"/admin/players/player/{player.pk}/change/")
    admin.click("text=Correct the profile…")
    assert admin.input_value("input[name=date_of_birth]") == "2001-10-13"  # the date input shows it, not blank
    admin.fill("textarea[name=address_line]", "Flat 2\n10 Downing Street")
    admin.fill("#profile textarea[name=reason]", "the player sent a utility bill")
    admin.click("text=Save (audited)")
    admin.locator("text=profile corrected").wait_for()
    player.refresh_from_db()
    assert player.address_line == "Flat 2\n10 Downing Street" and player.date_of_birth == date(2001, 10, 13)
    body = admin.inner_text("body")
    assert body.count(f"Ada Byron ({player.external_id}): profile corrected (address line).") == 1
    assert "Flat 2\n10 Downing Street" in admin.inner_text("#profile")
    admin.shot("player-page-profile-corrected")


def test_the_history_wallet_and_kyc_sections_load_after_the_page(staff_browser, geo_rules):
    """They are deferred (apps.players.page): placeholders in the first response, filled by player_sections.js when
    scrolled near; what they show is what the page showed before, and a fragment writes no player.viewed."""
    from decimal import Decimal

    from apps.audit.models import AuditEvent
    from apps.players.services import player_note_add
    from apps.wallet import posting

    player = PlayerFactory(first_name="Ada", last_name="Byron")
    posting.wallet_deposit(player=player, amount=Decimal("75.00"), currency=player.currency)
    admin_user = StaffUserFactory(roles=["Administrator"])
    player_note_add(actor=admin_user, player=player, text="Asked about the wallet")
    admin = staff_browser.login(admin_user)
    admin.goto(f"/admin/players/player/{player.pk}/change/")
    assert admin.locator("#deferred-history a").get_attribute("href").endswith(f"/{player.pk}/section/history/")
    admin.locator("#deferred-history").scroll_into_view_if_needed()
    admin.locator("#history #timeline").wait_for()
    history = admin.inner_text("#history")
    assert "Note added" in history and f"Profile viewed 1 time, last by {admin_user.username}" in history
    admin.locator("#deferred-wallet").scroll_into_view_if_needed()
    admin.locator("#wallet").wait_for()
    assert "GBP 75.00" in admin.inner_text("#wallet")
    admin.locator("#deferred-kyc").scroll_into_view_if_needed()
    admin.locator("#kyc #kyc-level").wait_for()
    assert admin.locator(".player-deferred[data-state=failed]").count() == 0
    assert AuditEvent.objects.filter(action="player.viewed", target_id=str(player.pk)).count() == 1
    admin.shot("player-page-deferred-sections-loaded")


def test_a_section_the_viewer_may_not_see_leaves_no_placeholder(staff_browser, geo_rules):
    player = PlayerFactory(first_name="Ada", last_name="Byron")
    support = staff_browser.login(StaffUserFactory(roles=["Support Agent"]))
    support.goto(f"/admin/players/player/{player.pk}/change/")
    support.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    support.locator("#deferred-kyc").wait_for(state="detached")  # 204: the KYC section is not theirs
    assert support.locator("#kyc").count() == 0
