"""Each role's main task as one path from the start page, in a real browser (issue 12): the member signs in, finds
their work waiting on the start page (the queues of tests/staff/test_start_page.py's seed, counted for their role,
and none they may not act on) and clicks through to it, never typing a URL. Every start page is saved as a
full-page screenshot, var/screenshots/start-<role>.png, for a person to judge; the harness fails on any 4xx/5xx,
console error or request to another origin."""

from __future__ import annotations

from typing import Any

import pytest

from apps.geo.models import RulePack
from apps.staff import roles
from tests.browser.test_withdrawals import withdrawal  # noqa: F401  (a fixture: Ada Byron's GBP 2,500.00)
from tests.factories import StaffUserFactory
from tests.staff.test_start_page import EXPECTED, seed_work

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("role_groups", "geo_rules"),
]


def queues_shown(page: Any) -> dict[str, int]:
    """The queues on the start page and their counts, as the page states them."""
    return {
        item.get_attribute("data-queue"): int(item.get_attribute("data-count"))
        for item in page.locator("#work li[data-queue]").all()
    }


def start_page(staff_browser: Any, role: str, **person: Any) -> Any:
    """A member of ``role`` signed in on their start page, saved as start-<role>.png."""
    page = staff_browser.login(StaffUserFactory(roles=[role], **person))
    assert role in page.inner_text("#whoami")
    page.shot(f"start-{role.lower().replace(' ', '-')}")
    return page


def open_queue(page: Any, key: str) -> None:
    page.click(f"#work li[data-queue='{key}'] a")
    page.page.wait_for_selector("#changelist")


def test_finance_officers_approve_and_pay_a_withdrawal_from_their_start_pages(staff_browser, withdrawal):  # noqa: F811
    work = seed_work()  # two more withdrawals to approve, one waiting for a second approver, an adjustment
    first = start_page(staff_browser, roles.FINANCE_OFFICER, first_name="Fiona", last_name="First")
    assert queues_shown(first) == {**EXPECTED[roles.FINANCE_OFFICER], "wallet.withdrawals_to_approve": 3}
    open_queue(first, "wallet.withdrawals_to_approve")
    assert first.locator("#result_list tbody tr").count() == 3  # the filtered list: what the card counted
    row = first.locator("#result_list tbody tr").filter(has_text="Ada Byron")
    assert "GBP 2,500.00" in row.inner_text()
    first.shot("start-finance-1-withdrawals-to-approve")
    row.locator("th a, td.field-id a").first.click()
    first.page.wait_for_selector("#withdrawal-decisions")
    first.click("#decide-approve button")
    first.page.wait_for_selector("#second-approver")
    assert "you approved first, someone else must" in first.inner_text("#withdrawal-decisions")

    second = staff_browser.login(StaffUserFactory(roles=[roles.FINANCE_OFFICER], first_name="Sam", last_name="Second"))
    assert queues_shown(second)["wallet.withdrawals_second_approval"] == 2  # the seed's and Ada Byron's
    second.shot("start-finance-2-second-approver")
    open_queue(second, "wallet.withdrawals_second_approval")
    second.locator("#result_list tbody tr").filter(has_text="Ada Byron").locator("th a, td.field-id a").first.click()
    second.page.wait_for_selector("#decide-approve")
    assert "Approve (second approver)" in second.inner_text("#decide-approve")
    second.fill("#decide-approve input[name=reason]", "card and name match the deposits")
    second.click("#decide-approve button")
    second.page.wait_for_selector("#decide-paid")
    second.click("#decide-paid button")
    second.page.wait_for_selector("#no-decisions")
    assert "marked paid" in second.inner_text("body")
    second.shot("start-finance-3-paid")
    # the seed's maker: their own adjustment request and first approval are not theirs to decide, so zeros
    maker = staff_browser.login(work["finance_maker"])
    shown = queues_shown(maker)
    assert shown["wallet.adjustments_to_approve"] == 0 and shown["wallet.withdrawals_second_approval"] == 0
    assert "None waiting." in maker.inner_text("#queue-walletadjustments_to_approve")
    maker.shot("start-finance-4-nothing-for-the-maker")
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.first_approver.last_name, withdrawal.second_approver.last_name) == (
        "paid",
        "First",
        "Second",
    )


def test_a_support_agent_finds_a_player_from_the_start_page_and_blocks_deposits(staff_browser):
    work = seed_work()
    player = work["players"][0]
    support = start_page(staff_browser, roles.SUPPORT_AGENT)
    assert queues_shown(support) == EXPECTED[roles.SUPPORT_AGENT]
    support.fill("#start-player-search", player.last_name)
    support.click("#player-search button[type=submit]")
    support.page.wait_for_selector("#changelist")
    support.locator("#result_list tbody tr").filter(has_text=player.external_id).locator("a").first.click()
    support.page.wait_for_url(f"**/admin/players/player/{player.pk}/change/**")
    support.shot("start-support-1-player-page")
    support.click("text=Operator exclusion or block…")  # a Support Agent's block: an operator exclusion
    support.page.wait_for_url("**/admin/responsible/exclusion/add/**")
    assert support.input_value("input[name=player_external_id]") == player.external_id
    support.fill("[name=reason]", "Chasing losses on the phone; agreed a deposit block")
    support.page.check("input[name=capabilities][value=deposit]")
    support.shot("start-support-2-block-form")
    support.click("button[name=_save]")
    support.page.wait_for_url(f"**/admin/players/player/{player.pk}/change/**")
    assert "in force now." in support.inner_text("body")
    assert "closed" in support.inner_text("#can-deposit")


def test_an_aml_analyst_reaches_a_lift_request_from_the_start_page_and_decides_it(staff_browser):
    seed_work()
    analyst = start_page(staff_browser, roles.AML_ANALYST)
    assert queues_shown(analyst) == EXPECTED[roles.AML_ANALYST]
    open_queue(analyst, "responsible.lifts_to_decide")
    rows = analyst.locator("#result_list tbody tr")
    assert rows.count() == 1 and "affordability checked" in rows.inner_text()
    analyst.shot("start-aml-1-lift-requests")
    rows.locator("a[href*='/responsible/exclusion/']").first.click()
    analyst.page.wait_for_selector("#exclusion-decisions")
    assert "affordability checked" in analyst.inner_text("#exclusion-decisions")
    analyst.fill("#exclusion-decisions input[name=reason]", "Payslips checked against deposits")
    analyst.click("button[value=approve_lift]")
    analyst.locator("text=lifted (ends now)").wait_for()
    analyst.shot("start-aml-2-lifted")


def test_an_administrator_reaches_the_rule_packs_from_the_start_page(staff_browser):
    seed_work()
    admin = start_page(staff_browser, roles.ADMINISTRATOR)
    assert queues_shown(admin) == EXPECTED[roles.ADMINISTRATOR]
    admin.click("#screens a:text-is('Rule packs')")
    admin.page.wait_for_selector("#changelist")
    pack = RulePack.objects.filter(jurisdiction__code="GB").order_by("-effective_from").first()
    admin.locator(f"#result_list a[href$='/geo/rulepack/{pack.pk}/change/']").first.click()
    admin.page.wait_for_selector("#id_stake_caps-0-max_stake")
    admin.shot("start-admin-1-rule-pack")


@pytest.mark.parametrize(
    ("role", "screens"),
    [
        (roles.KYC_OFFICER, ["Players", "Held identity edits"]),
        (roles.MLRO, ["Players", "Exclusions", "Approvals inbox", "Audit trail"]),
        (roles.CRM_MANAGER, ["Players"]),
    ],
)
def test_the_start_page_shows_what_the_other_roles_may_do(staff_browser, role, screens):
    seed_work()
    page = start_page(staff_browser, role)
    assert queues_shown(page) == EXPECTED[role]
    if not EXPECTED[role]:
        assert "Nothing is waiting for you" in page.inner_text("#work")
    listed = page.locator("#screens th a").all_inner_texts()
    assert set(screens) <= {name.strip() for name in listed}, listed
    assert page.locator("#player-search").is_visible()
