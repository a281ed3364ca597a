"""Issue 15's "Done when", walked in a real browser (Debian's chromium) against the live server: a CRM Manager
writes a UK-compliant deposit match with the template form (a 20x wagering is refused on the form first, nothing
saved) and publishes it, builds a segment of the GB players and reads its count, builds an offer campaign of the
template to the segment and starts it, watches its progress bar from the first chunk to "completed"; then one of
the players deposits and claims the offer and the platform posts bets, all over HTTP on the platform API, and the
CRM Manager reloads the player's page between the bets and reads the wagering bar grow to exact amounts.

The campaign's job: the start queues ``crm_campaign_run`` on the real broker, routed for this test to a queue of
its own that no worker reads; the test takes the message off that queue (so nothing is left for a later worker)
and does the worker's part itself between page loads, a chunk of 10 players at a time, so the page is seen mid-run
without waiting on any clock. Screenshots: var/screenshots/crm-walk-* (the harness) and a copy of each in
$CRM_WALK_SHOTS when set."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from apps.bonuses.choices import BonusState, TemplateState
from apps.bonuses.models import BonusTemplate, PlayerBonus
from apps.crm import campaigns, tasks
from apps.crm.models import Campaign, Segment
from apps.staff import roles
from backoffice.celery import app as celery_app
from tests.bonuses.conftest import gb_player
from tests.browser.test_accessibility import problems_on
from tests.conftest import make_platform_client
from tests.factories import StaffUserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("role_groups", "geo_rules"),
]
PLAYERS = 30
CHUNK = 10


def shot(page: Any, name: str) -> Path:
    path = page.shot(f"crm-walk-{name}")
    copies = os.environ.get("CRM_WALK_SHOTS")
    if copies:
        Path(copies).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(copies) / path.name)
    return path


@pytest.fixture
def job_queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A queue of this test's own for the campaign's job: the start's message goes to the real broker, where no
    worker (another test's included) would take it; the test reads it, and the queue is deleted afterwards."""
    name = f"test-crm-walk-{uuid.uuid4().hex[:12]}"
    task = tasks.crm_campaign_run
    monkeypatch.setattr(task, "queue", name, raising=False)
    monkeypatch.setattr(task, "_exec_options", None)  # Celery caches the task's options (the queue among them)
    yield name
    with celery_app.connection_for_write() as conn:  # the queue's list and the bindings the publish declared
        client = conn.default_channel.client
        for key in list(client.scan_iter(match=f"*{name}*")):
            client.delete(key)
    celery_app.amqp.queues.pop(name, None)


def take_job(queue: str) -> tuple[str, list[Any]]:
    """The one message the start queued: its task name and arguments (acknowledged: gone from the broker)."""
    with celery_app.connection_for_read() as conn, conn.SimpleQueue(queue) as simple:
        message = simple.get(timeout=10)
        message.ack()
        with pytest.raises(simple.Empty):  # one message, nothing else
            simple.get_nowait()
    args, _kwargs, _embed = message.decode()
    return message.headers["task"], args


class Platform:
    """The game platform on the API over HTTP, with its key (Idempotency-Key on every command)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.key = make_platform_client(name="Walk platform", allowed_networks=["127.0.0.0/8"]).key
        self.rounds = iter(range(1, 10_000))

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Api-Key {self.key}", "Content-Type": "application/json"}
        if method == "POST":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        data = json.dumps(body).encode() if body is not None else None
        request = Request(f"{self.base_url}{path}", data=data, headers=headers, method=method)
        try:
            with urlopen(request, timeout=20) as response:
                return response.status, json.load(response)
        except HTTPError as refused:
            return refused.code, json.load(refused)

    def deposit(self, player: Any, amount: str) -> None:
        body = {
            "type": "deposit",
            "player": player.external_id,
            "amount": amount,
            "currency": "GBP",
            "payment_method": "card",
            "instrument_fingerprint": "fp-walk",
        }
        status, answer = self.call("POST", "/api/v1/wallet/transactions/", body)
        assert status == 201, answer

    def bet(self, player: Any, amount: str, category: str = "slots") -> tuple[int, dict[str, Any]]:
        n = next(self.rounds)
        body = {
            "type": "bet",
            "player": player.external_id,
            "amount": amount,
            "currency": "GBP",
            "round_id": f"walk-{n}",
            "reference": f"walk-bet-{n}",
            "game_category": category,
            "game_id": "starburst" if category == "slots" else "blackjack",
        }
        return self.call("POST", "/api/v1/wallet/transactions/", body)


def reload(page: Any) -> None:
    """Load the page again; a running campaign's page also reloads itself every 2 s, and when its own reload
    starts first, ours replaces it (either way the page read next is a fresh one)."""
    try:
        page.page.reload()
    except PlaywrightError as exc:
        if "interrupted by another navigation" not in str(exc):
            raise
        page.page.wait_for_load_state("load")


def accessible(page: Any) -> None:
    """The a11y checks (tests/browser/a11y.js) on the page as it reads without its one-time message: unfold's green
    success message is 4.49:1 against its background (unfold's own style, on every admin page)."""
    page.page.reload()
    assert problems_on(page.page) == []


def fill_template(page: Any, **values: str) -> None:
    """The template form as a CRM Manager fills it (text fields by name; the products and jurisdictions are
    checkboxes; type and policies are selects)."""
    page.select_option("select[name=type]", "deposit_match")
    page.page.check("input[name=products][value=casino]")
    page.page.check("input[name=jurisdictions][value=GB]")
    for name, value in values.items():
        page.fill(f"[name={name}]", value)


TERMS = {
    "code": "uk-welcome-walk",
    "name": "UK welcome: 100% up to GBP 50",
    "description": "Deposit GBP 10 or more: we match it 100% up to GBP 50. Wager the bonus 5 times on casino games "
    "within 30 days; at most GBP 2 a spin while wagering.",
    "currency": "GBP",
    "percent": "100",
    "amount": "50.00",
    "min_deposit": "10.00",
    "wagering_multiplier": "5",
    "max_bet": "2.00",
    "days_to_wager": "30",
    "days_to_claim": "7",
    "budget": "1000.00",
}


def test_a_crm_manager_walks_template_segment_campaign_and_wagering(staff_browser, live_server, job_queue):
    crm = StaffUserFactory(roles=[roles.CRM_MANAGER], first_name="Cara", last_name="Mgr")
    players = [gb_player() for _ in range(PLAYERS)]
    for _ in range(3):  # not in the segment
        gb_player(country="SE", currency="SEK")
    manager = staff_browser.login(crm)

    # 1. the template: a 20x wagering breaks the UK rule (on the form, nothing saved), 5x is saved and published
    manager.goto("/admin/")
    manager.click("text=Bonus templates")
    manager.page.wait_for_url("**/admin/bonuses/bonustemplate/")
    manager.click("a[href$='/admin/bonuses/bonustemplate/add/']")
    fill_template(manager, **{**TERMS, "wagering_multiplier": "20"})
    manager.click("button[name=_save]")
    rule = "GB: wagering of at most 10x (from 19 Jan 2026)."
    manager.locator(f"text={rule}").first.wait_for()
    assert manager.inner_text("body").count(rule) == 2  # above the form and on the field
    assert manager.input_value("[name=wagering_multiplier]") == "20"  # the form keeps what was typed
    shot(manager, "1-template-refused")
    assert not BonusTemplate.objects.exists()
    manager.fill("[name=wagering_multiplier]", "5")
    manager.click("button[name=_save]")
    manager.page.wait_for_url("**/admin/bonuses/bonustemplate/**")
    template = BonusTemplate.objects.get(code=TERMS["code"])
    assert template.state == TemplateState.DRAFT
    assert (template.percent, template.amount, template.wagering_multiplier, template.max_bet) == (
        Decimal("100"),
        Decimal("50.00"),
        Decimal("5"),
        Decimal("2.00"),
    )
    assert template.products == ["casino"] and template.jurisdictions == ["GB"]
    manager.goto(f"/admin/bonuses/bonustemplate/{template.pk}/change/")
    manager.fill("#publish-reason", "UK welcome offer for the December campaign")
    # the publish form is a form of its own (inside the admin's form the browser dropped it: Publish saved the draft)
    assert manager.evaluate("document.getElementById('publish-reason').form.id") == "bonus-form-publish"
    manager.click("#bonus-form-publish button[type=submit]")
    manager.locator("text=the template is published").wait_for()
    assert BonusTemplate.objects.get(pk=template.pk).state == TemplateState.PUBLISHED
    shot(manager, "2-template-published")
    accessible(manager)

    # 2. the segment: the GB players, counted on its page
    manager.goto("/admin/crm/segment/add/")
    manager.fill("[name=name]", "UK players")
    manager.select_option("select[name=country]", "GB")
    manager.fill("input[name=currency]", "GBP")
    manager.click("button[name=_save]")
    manager.page.wait_for_url("**/admin/crm/segment/*/change/")
    segment = Segment.objects.get(name="UK players")
    assert segment.criteria == {"country": ["GB"]}
    assert manager.inner_text("#segment-count").startswith(f"{PLAYERS}")
    shot(manager, "3-segment")
    accessible(manager)

    # 3. the campaign: offers of the template to the segment, started, watched to completion
    now = timezone.localtime()
    manager.goto("/admin/crm/campaign/add/")
    manager.fill("[name=name]", "UK welcome, December")
    manager.select_option("select[name=segment]", str(segment.pk))
    manager.select_option("select[name=template]", str(template.pk))
    manager.select_option("select[name=mode]", "offer")
    starts, ends = now - timedelta(minutes=5), now + timedelta(days=7)
    manager.fill("[name=starts_at_0]", f"{starts:%Y-%m-%d}")
    manager.fill("[name=starts_at_1]", f"{starts:%H:%M:%S}")
    manager.fill("[name=ends_at_0]", f"{ends:%Y-%m-%d}")
    manager.fill("[name=ends_at_1]", f"{ends:%H:%M:%S}")
    manager.click("button[name=_save]")
    manager.page.wait_for_url("**/admin/crm/campaign/*/change/")
    campaign = Campaign.objects.get(name="UK welcome, December")
    assert "Targets: 30 players (exact)" in manager.inner_text("#campaign-forecast")
    assert "Not started" in manager.inner_text("#campaign-progress")
    shot(manager, "4-campaign-forecast")
    manager.click("#campaign-start button")
    manager.locator("text=started for 30 players").wait_for()
    assert take_job(job_queue) == ("apps.crm.tasks.crm_campaign_run", [campaign.pk])
    progress = manager.locator("#campaign-progress")
    expect(progress).to_have_attribute("data-state", "running")
    expect(progress).to_have_attribute("data-percent", "0")
    for percent in ("33", "66", "100"):  # the worker's part: one chunk of 10, then the page
        assert campaigns.campaign_run(campaign_id=campaign.pk, size=CHUNK, max_chunks=1) == 1
        reload(manager)
        expect(progress).to_have_attribute("data-percent", percent)
        if percent == "33":
            expect(progress).to_contain_text("Running · 10 of 30 players (33 %) · offered to 10 · refused 0")
            expect(manager.locator("#campaign-progress progress")).to_have_attribute("value", "33")
            # offers only, nothing claimed yet: the panel says so instead of drawing an empty chart
            expect(manager.get_by_text("offers are counted when claimed")).to_be_visible()
            shot(manager, "5-campaign-running")
    assert campaigns.campaign_run(campaign_id=campaign.pk, size=CHUNK, max_chunks=1) == 0  # none left: it finishes
    reload(manager)
    expect(progress).to_have_attribute("data-state", "completed")
    expect(progress).to_contain_text("Completed · 30 of 30 players (100 %) · offered to 30 · refused 0")
    fields = manager.inner_text("fieldset.module")
    assert re.search(r"Given\s+30 offers", fields)  # not "awarded 30": nothing is paid before a claim
    assert re.search(r"Refusals by reason\s+none", fields)
    expect(manager.get_by_text("offers are counted when claimed")).to_be_visible()
    shot(manager, "6-campaign-completed")
    assert problems_on(manager.page) == []
    assert PlayerBonus.objects.filter(campaign_id=campaign.pk, state=BonusState.OFFERED).count() == PLAYERS

    # 4. a player claims with a deposit; the platform posts bets; the player's page shows the wagering grow
    player = players[7]
    platform = Platform(live_server.url)
    status, available = platform.call("GET", f"/api/v1/players/{player.external_id}/bonuses/available/")
    assert status == 200
    assert [(a["template"], a["needs_code"]) for a in available["available"]] == [(TERMS["code"], False)]
    offer_id = available["available"][0]["offer_id"]
    platform.deposit(player, "20.00")
    status, claimed = platform.call(
        "POST",
        f"/api/v1/players/{player.external_id}/bonuses/claim/",
        {"offer_id": offer_id, "deposit_amount": "20.00"},
    )
    assert status == 201, claimed
    assert claimed["bonus"]["amount"] == "20.00" and claimed["bonus"]["wagering"]["required"] == "100.0000"

    def bonus_section() -> str:
        manager.goto(f"/admin/players/player/{player.pk}/change/")
        manager.locator("#deferred-bonuses").scroll_into_view_if_needed()
        manager.locator("#player-bonuses").wait_for()
        return manager.inner_text("#player-bonuses")

    bar = manager.locator("#player-bonuses [role=progressbar]")
    assert "Wagered 0.00 of 100.00 GBP (0.00%)" in bonus_section()
    assert bar.get_attribute("aria-valuenow") == "0.00"
    shot(manager, "7-player-claimed")
    for _ in range(3):
        assert platform.bet(player, "2.00")[0] == 201
    assert "Wagered 6.00 of 100.00 GBP (6.00%)" in bonus_section()
    assert bar.get_attribute("aria-valuenow") == "6.00"
    shot(manager, "8-player-wagering")
    status, refused = platform.bet(player, "2.50")  # above the template's maximum bet: refused, nothing counts
    assert (status, refused["code"], refused["fields"]) == (
        403,
        "bonus_max_bet",
        {"reasons": ["bonus_max_bet"], "bonus_max_bet": {"amount": "2.00", "currency": "GBP"}},  # the maximum
    )
    assert platform.bet(player, "2.00", category="table")[0] == 201  # table games count 10%
    for _ in range(5):
        assert platform.bet(player, "2.00")[0] == 201
    assert "Wagered 16.20 of 100.00 GBP (16.20%)" in bonus_section()
    assert bar.get_attribute("aria-valuenow") == "16.20"
    status, listed = platform.call("GET", f"/api/v1/players/{player.external_id}/bonuses/")  # what the player sees
    assert listed["bonuses"][0]["wagering"] | {"contributions": None} == {
        "required": "100.0000",
        "done": "16.2000",
        "percent": "16.20",
        "contributions": None,
        "excluded_games": [],
        "max_bet": "2.00",
    }
    shot(manager, "9-player-wagering-more")
    assert problems_on(manager.page) == []

    # the bonus's own page: the same progress, and its cancel form is a form of its own (it was inside the admin's)
    bonus = PlayerBonus.objects.get(pk=claimed["bonus"]["id"])
    manager.goto(f"/admin/bonuses/playerbonus/{bonus.pk}/change/")
    assert manager.locator("#bonus-progress").get_attribute("aria-valuenow") == "16.20"
    assert manager.evaluate("document.getElementById('cancel-reason').form.id") == "bonus-form-cancel"
    shot(manager, "10-bonus-page")
