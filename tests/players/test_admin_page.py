"""The player page as staff read it (issue 12): what the player may do now and why not, money in the currency's
decimals, limits in words, a readable history, and forms that keep what was typed."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from apps.core.templatetags.money import format_money
from apps.players.services import player_set_block, player_set_status, player_update, player_viewed
from apps.responsible import services as rg
from apps.responsible.models import RegisterCheck
from apps.wallet import posting
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
SECRET = "source of funds review"


def page(player) -> str:
    return f"/admin/players/player/{player.pk}/change/"


def section(player, name: str) -> str:
    """A section the page loads after it (apps.players.page, deferred), as its script fetches it."""
    return f"/admin/players/player/{player.pk}/section/{name}/?partial=1"


def text(response) -> str:
    """The page's words, tags removed (what a person reads)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def row(html: str, action: str) -> str:
    match = re.search(rf'<tr id="can-{action}".*?</tr>', html, re.S)
    assert match, action
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


def test_it_shows_a_self_excluded_player_as_self_excluded_with_every_play_action_closed(
    staff_client, support_agent, player
):
    rg.self_exclude(actor=None, player=player, term="6m")
    response = staff_client(support_agent).get(page(player))
    html = response.content.decode()
    badge = re.search(r'id="status-badge"[^>]*>([^<]+)<', html).group(1)
    assert badge == "Self-excluded"  # not "Active"
    assert 'class="player-banner' in html and "Self-excluded until" in text(response)
    for action in ("login", "deposit", "bet", "game_launch", "bonus"):
        assert "closed" in row(html, action) and "Self-excluded until" in row(html, action)
    assert "open" in row(html, "withdraw")  # an excluded player can always take their money out
    assert "Withdrawals stay open" in text(response)


def test_it_shows_an_active_unrestricted_player_as_active_and_open(staff_client, support_agent):
    player = PlayerFactory(marketing_email=True)
    html = staff_client(support_agent).get(page(player)).content.decode()
    assert re.search(r'id="status-badge"[^>]*>Active<', html)
    assert all("open" in row(html, a) for a in ("login", "deposit", "bet", "withdraw", "bonus", "marketing"))
    assert 'class="player-banner' not in html


def test_it_puts_the_reason_beside_a_block_and_hides_a_compliance_reason_from_support(
    staff_client, mlro, support_agent, player
):
    player_set_block(actor=mlro, player=player, capability="withdrawal", blocked=True, reason=SECRET)
    mlro_html = staff_client(mlro).get(page(player)).content.decode()
    assert "Withdrawals are blocked (Compliance): " + SECRET in row(mlro_html, "withdraw")
    support = staff_client(support_agent).get(page(player))
    assert SECRET not in support.content.decode()
    assert "Withdrawals are blocked (Compliance): [compliance only]" in row(support.content.decode(), "withdraw")
    assert re.search(r'id="status-badge"[^>]*>Active, restricted<', support.content.decode())


def test_a_suspended_account_reads_suspended_with_its_reason_in_the_banner(staff_client, mlro, player):
    player_set_status(actor=mlro, player=player, status="suspended", reason=SECRET)
    response = staff_client(mlro).get(page(player))
    assert re.search(r'id="status-badge"[^>]*>Suspended<', response.content.decode())
    assert f"Account suspended: {SECRET}" in text(response)
    assert "The account is suspended (Compliance): " + SECRET in row(response.content.decode(), "login")


def test_the_page_never_asks_a_national_register(staff_client, support_agent, player):
    assert player.country == "GB"  # GAMSTOP is asked at login and marketing in the seeded GB rule pack
    staff_client(support_agent).get(page(player))
    assert not RegisterCheck.objects.exists()


@pytest.mark.parametrize(
    ("amount", "currency", "signed", "shown"),
    [
        ("3000.0000", "GBP", False, "GBP 3,000.00"),
        ("12.5000", "EUR", True, "+EUR 12.50"),
        ("-99999.0000", "GBP", True, "\u2212GBP 99,999.00"),
        ("12.5000", "KWD", False, "KWD 12.500"),
        ("1500.0000", "JPY", False, "JPY 1,500"),
        ("1500.0000", "ISK", True, "+ISK 1,500"),
        ("0.0000", "GBP", True, "GBP 0.00"),
    ],
)
def test_it_formats_money_by_the_currency(amount, currency, signed, shown):
    assert format_money(Decimal(amount), currency, signed=signed) == shown


def test_the_wallet_section_shows_the_currency_decimals_and_signed_amounts(staff_client, mlro, player):
    posting.wallet_deposit(player=player, amount=Decimal("3000.00"), currency="GBP")
    posting.wallet_bet(player=player, amount=Decimal("2.50"), currency="GBP", round_id="R1", game_category="slots")
    body = text(staff_client(mlro).get(section(player, "wallet")))
    assert "Cash GBP 2,997.50" in body
    assert "+GBP 3,000.00" in body and "\u2212GBP 2.50" in body
    assert "3000.0000" not in body and "2997.5000" not in body


def test_limits_read_as_sentences(staff_client, support_agent, player):
    rg.limit_set(
        actor=support_agent,
        player=player,
        kind="loss",
        period="week",
        value="500",
        source="operator",
        reason="RG review",
        staff=support_agent,
    )
    body = text(staff_client(support_agent).get(page(player)))
    assert "Net loss limit: GBP 500.00 per week, set by the operator" in body
    assert "loss / week / operator" not in body and "500.0000" not in body


def test_the_history_is_a_timeline_with_diffs_and_the_views_folded(staff_client, mlro, admin_user, player):
    player_update(actor=admin_user, player=player, changes={"city": "Bath"}, staff=True, reason="moved")
    for _ in range(3):
        player_viewed(actor=admin_user, player=player)
    client = staff_client(mlro)
    assert client.get(page(player)).status_code == 200  # the page view; the history comes after it
    response = client.get(section(player, "history"))
    body = text(response)
    assert "Profile changed" in body and f"city: {player.city or '—'} → Bath" in body
    # the three views above and this one, folded: not a row each
    assert f"Profile viewed 4 times, last by {mlro.username}" in body
    history = re.search(r'<section id="history".*?</section>', response.content.decode(), re.S).group(0)
    assert "player.viewed" not in history and "{" not in history and "&#x27;old&#x27;" not in history
    assert history.count('<li class="border-t') == 1  # the update; no row per view


def test_history_opens_the_timeline_for_audit_readers_only(staff_client, mlro, support_agent, admin_user, player):
    player_update(actor=admin_user, player=player, changes={"city": "Bath"}, staff=True, reason="moved")
    url = f"/admin/players/player/{player.pk}/history/"
    response = staff_client(mlro).get(url)
    assert response.status_code == 200
    body = text(response)
    assert "doesn" not in body and "change history" not in body
    assert "Profile changed" in body and "Bath" in body
    assert staff_client(support_agent).get(url).status_code == 403


def test_the_profile_form_prefills_the_birth_date_in_iso(staff_client, admin_user):
    player = PlayerFactory(date_of_birth=date(2001, 10, 13))
    html = staff_client(admin_user).get(page(player)).content.decode()
    assert re.search(
        r'type="date" name="date_of_birth" value="2001-10-13"|name="date_of_birth"[^>]*value="2001-10-13"', html
    )
    assert "13/10/2001" not in html


def test_a_multi_line_address_keeps_its_line_breaks(staff_client, admin_user, player):
    form = {
        "first_name": player.first_name,
        "last_name": player.last_name,
        "date_of_birth": player.date_of_birth.isoformat(),
        "email": player.email,
        "address_line": "Flat 2\r\n10 Downing Street",
        "city": player.city,
        "postal_code": player.postal_code,
        "reason": "the player wrote the flat on a second line",
    }
    response = staff_client(admin_user).post(f"/admin/players/player/{player.pk}/profile/", form, follow=True)
    player.refresh_from_db()
    assert player.address_line == "Flat 2\n10 Downing Street"
    assert "Flat 2<br>10 Downing Street" in response.content.decode()


def test_an_action_says_one_message_naming_the_player(staff_client, mlro, player):
    response = staff_client(mlro).post(
        f"/admin/players/player/{player.pk}/block/",
        {"capability": "bet", "blocked": "1", "reason": "chasing losses"},
        follow=True,
    )
    body = text(response)
    message = f"{player.first_name} {player.last_name} ({player.external_id}): bet blocked."
    assert body.count(message) == 1 and "Saved." not in body


def test_an_operator_block_shows_which_exclusion_and_why_to_those_who_may_read_exclusions(
    staff_client, support_agent, crm_manager, player
):
    block = rg.operator_exclude(actor=support_agent, player=player, reason="chasing losses", capabilities=["deposit"])
    response = staff_client(support_agent).get(page(player))
    assert f"Blocked by the operator (responsible gambling): exclusion #{block.pk}: chasing losses" in row(
        response.content.decode(), "deposit"
    )
    assert f"Blocked by the operator (exclusion #{block.pk}: chasing losses): deposit refused." in text(response)
    crm = staff_client(crm_manager).get(page(player)).content.decode()
    assert "closed" in row(crm, "deposit") and "chasing losses" not in crm  # no responsible.view_exclusion
