"""Axe-style basic accessibility of the main admin pages, in Debian's chromium: every input, select and textarea
has a label, every image an alt, text stands out from its background by at least 4.5:1 (3:1 when large), read
from the computed styles of the theme, and every text field has a visible border or fill. The checks are ours
(tests/browser/a11y.js: the project installs no axe package; the Python package axe-playwright-python
would bring axe-core's full rule set, a dependency for the lead to decide). Each page is saved under
var/screenshots/a11y-*.png.

What fails today on pages another piece of work owns is listed in ``KNOWN`` (page, pattern, whose): it is reported
as a warning, not a failure, and anything else on those pages still fails. Remove a line once it is fixed."""

from __future__ import annotations

import os
import re
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("role_groups")]
CHECKS = (Path(__file__).with_name("a11y.js")).read_text()


def problems_on(page: Any) -> list[str]:
    page.wait_for_load_state("load")
    found = list(page.evaluate(CHECKS))
    if found and os.environ.get("A11Y_REPORT"):
        with open(os.environ["A11Y_REPORT"], "a") as report:
            report.write(f"== {page.url}\n" + "\n".join(found) + "\n")
    return found


@pytest.fixture
def scene(geo_rules: None) -> dict[str, Any]:
    """A player with money, a withdrawal waiting and some audit history, and an Administrator."""
    from apps.players import services as players
    from apps.wallet import posting
    from apps.wallet import services as wallet

    player = PlayerFactory(first_name="Ada", last_name="Lovelace")
    posting.wallet_deposit(player=player, amount=Decimal("100.00"), currency="GBP")
    withdrawal = wallet.withdrawal_request(player=player, amount=Decimal("40.00"), currency="GBP")
    admin = StaffUserFactory(roles=["Administrator"])
    players.player_note_add(actor=admin, player=player, text="Called about a deposit")
    from apps.audit.models import AuditEvent
    from apps.audit.services import audit_log

    audit_log(
        actor=admin,
        action="player.updated",
        target=player,
        data={"city": {"old": "Leeds", "new": "York"}, "reason": "moved house; the new address is on the bill"},
    )
    event = AuditEvent.objects.latest("id")
    return {"player": player, "withdrawal": withdrawal, "admin": admin, "event": event}


def test_the_login_page(staff_browser):
    page = staff_browser.open().goto("/admin/login/")
    page.shot("a11y-login")
    assert problems_on(page) == []


PAGES = {
    "start": lambda s: "/admin/",
    "player-list": lambda s: "/admin/players/player/",
    "player-page": lambda s: f"/admin/players/player/{s['player'].pk}/change/",
    "withdrawal-list": lambda s: "/admin/wallet/withdrawal/",
    "audit-list": lambda s: "/admin/audit/auditevent/",
    "audit-event": lambda s: f"/admin/audit/auditevent/{s['event'].pk}/change/",
    "api-client-form": lambda s: "/admin/api/apiclient/add/",
    "staff-form": lambda s: f"/admin/staff/staffuser/{s['admin'].pk}/change/",
}


# (page, regex of what fails, whose work it is): a warning while its owner fixes it; empty while nothing is known
KNOWN: list[tuple[str, str, str]] = []


def unknown(name: str, found: list[str]) -> list[str]:
    known = [(re.compile(pattern), whose) for page, pattern, whose in KNOWN if page == name]
    rest = []
    for problem in found:
        owner = next((whose for pattern, whose in known if pattern.search(problem)), None)
        if owner:
            warnings.warn(f"known accessibility problem ({owner}): {problem}", stacklevel=2)
        else:
            rest.append(problem)
    return rest


@pytest.mark.parametrize("name", sorted(PAGES))
def test_a_main_page_as_an_administrator(staff_browser, scene, name):
    page = staff_browser.login(scene["admin"])
    page.goto(PAGES[name](scene))
    for holder in page.locator(".player-deferred").all():  # the player page's deferred sections: checked loaded
        holder.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelectorAll('.player-deferred:not([data-state=loaded])').length === 0")
    page.shot(f"a11y-{name}")
    assert unknown(name, problems_on(page)) == []


def test_the_checks_catch_an_unlabelled_input_a_missing_alt_faint_text_and_an_invisible_field(staff_browser):
    """The checks themselves: a page with one fault of each kind reports each, and a clean one reports none."""
    page = staff_browser.open().goto("/admin/login/")
    page.evaluate(
        """() => {
            document.body.insertAdjacentHTML("beforeend", `
              <div id="faults" style="background: #fff; padding: 8px">
                <input id="nolabel" type="text" style="border: 1px solid #555">
                <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="noalt">
                <p id="faint" style="color: #bbb; background: #fff">faint text</p>
                <label for="bare">Bare</label><input id="bare" type="text" style="border: 0; background: #fff">
                <label for="ok">Fine</label><input id="ok" type="text" style="border: 1px solid #555">
                <p style="color: #333">fine text</p>
              </div>`);
        }"""
    )
    found = problems_on(page)
    assert any(p.startswith("label: input#nolabel") for p in found), found
    assert any(p.startswith("alt: img#noalt") for p in found), found
    assert any(p.startswith("contrast: p#faint") for p in found), found
    assert any(p.startswith("boundary: input#bare") for p in found), found
    assert not any("#ok" in p or "fine text" in p for p in found), found
