"""The player page in a real browser, as the MLRO who suspended a player and as a support agent who must not
learn why (tipping off). Screenshots land in var/browser/ for a person to judge."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser

from tests.browser.test_staff_login import ARTIFACTS, browser  # noqa: F401  (the browser fixture)
from tests.conftest import current_code
from tests.factories import PASSWORD, PlayerFactory, StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("role_groups")]
SECRET = "source of funds review"


@pytest.fixture
def scene(geo_rules: None) -> dict[str, object]:
    from apps.players.services import player_note_add, player_set_block, player_set_status

    mlro = StaffUserFactory(roles=["MLRO"])
    support = StaffUserFactory(roles=["Support Agent"])
    player = PlayerFactory(first_name="Ada", last_name="Byron")
    player_set_status(actor=mlro, player=player, status="suspended", reason=SECRET)
    player_set_block(actor=mlro, player=player, capability="withdrawal", blocked=True, reason=SECRET)
    player_set_block(actor=mlro, player=player, capability="withdrawal", blocked=False, reason="documents arrived")
    player_note_add(actor=mlro, player=player, text="SAR considered, see case", visibility="compliance")
    player_note_add(actor=support, player=player, text="Prefers to be called after 6 pm")
    return {
        "path": f"/admin/players/player/{player.pk}/change/",
        "mlro": (mlro.username, current_code(TOTPDevice.objects.get(user=mlro))),
        "support": (support.username, current_code(TOTPDevice.objects.get(user=support))),
    }


def _page_as(browser: Browser, live_server, who: tuple[str, str], path: str, shot: str) -> str:  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", who[0])
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=otp_token]", who[1])
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}{path}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator("#status").screenshot(path=str(ARTIFACTS / shot))
    text = page.inner_text("#player-360")
    page.close()
    return text


def test_the_mlro_sees_why_and_who_must_confirm_and_support_sees_neither_reason(live_server, scene, browser):  # noqa: F811
    mlro_view = _page_as(browser, live_server, scene["mlro"], scene["path"], "player-restrictions-mlro.png")
    assert SECRET in mlro_view and "SAR considered" in mlro_view
    assert "Compliance" in mlro_view and "a second person confirms" in mlro_view
    support_view = _page_as(browser, live_server, scene["support"], scene["path"], "player-restrictions-support.png")
    assert "Suspended" in support_view and "Prefers to be called" in support_view
    assert SECRET not in support_view and "SAR" not in support_view and "[compliance only]" in support_view
    assert "History (audit trail)" not in support_view
