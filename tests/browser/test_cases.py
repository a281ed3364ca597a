"""An AML case worked to a confirmed outcome with a second approver, in a real browser (issue 16): three deposits
trip a live "GBP 1,000 in 24 hours" rule, the alert opens a case assigned to the analyst; the analyst signs in,
finds it under "My cases" on the start page, opens it from the inbox, reads the evidence, starts work, adds a note
and closes it as confirmed (which waits for a second person); the MLRO signs in, finds "Confirmed closings to
approve" on the start page and approves it in the Approvals inbox; the case reads closed, confirmed. A Support
Agent, in the same browser, cannot tell that any of it exists: the player's page reads as the case-free twin's, the
start page has no case queue, the search finds no case and the case's own address answers as a missing page.
Screenshots var/screenshots/cases-*.png."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from apps.compliance.choices import CaseState, Outcome, VersionState
from apps.compliance.models import Case, CaseEvent, RuleVersion
from apps.staff import roles
from tests.browser.test_accessibility import problems_on
from tests.compliance.conftest import deposit, drain, gbp, login, publish
from tests.factories import PlayerFactory, StaffUserFactory

# what would tell a reader that AML monitoring looks at a player
WORDS = re.compile(r"(?i)\b(cases?|alerts?|aml|compliance|suspicious|laundering|structuring|mlro|rules?)\b")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("role_groups", "geo_rules"),
]


@pytest.fixture
def alerted_case():
    """The compliance inbox and SLA policies (an earlier transactional test flushed them), only this test's rule
    published, and a player whose three deposits trip it."""
    importlib.import_module("apps.compliance.migrations.0002_defaults_and_roles").forwards(django_apps, None)
    RuleVersion.objects.filter(state=VersionState.PUBLISHED).update(
        state=VersionState.RETIRED, retired_at=timezone.now()
    )
    analyst = StaffUserFactory(roles=[roles.AML_ANALYST], first_name="Ana", last_name="Lyst")
    player = PlayerFactory(first_name="Victor", last_name="Vance", currency="GBP", country="GB")
    twin = PlayerFactory(first_name="Lance", last_name="Vance", currency="GBP", country="GB")
    version = publish("amount_window", {"amount": gbp("1000.00"), "window": "24h"}, code="gbp-1000-a-day", score=70)
    version.rule.name = "Deposits of GBP 1,000 or more in 24 hours"
    version.rule.save(update_fields=["name"])
    login(player, device="device-42", ip="81.2.69.160")
    login(twin, device="device-42", ip="81.2.69.161")
    for amount in ("400.00", "350.00", "300.00"):
        deposit(player, amount, instrument="fp-visa-4242")
    drain()
    case = Case.objects.get(player=player)
    assert case.assignee == analyst
    return case


def test_an_analyst_confirms_a_case_and_the_mlro_approves_it(staff_browser, alerted_case):
    case = alerted_case
    mlro_user = StaffUserFactory(roles=[roles.MLRO], first_name="Mel", last_name="Lead")

    analyst = staff_browser.login(case.assignee)
    item = analyst.locator("#work li[data-queue='compliance.my_cases']")
    assert item.get_attribute("data-count") == "1"
    analyst.shot("cases-0-analyst-start-page")
    item.locator("a").click()
    analyst.page.wait_for_selector("#changelist")
    row = analyst.locator("#result_list tbody tr").filter(has_text="Victor Vance")
    assert "Anti-money laundering" in row.inner_text() and "due in" in row.inner_text()
    analyst.shot("cases-1-inbox")
    assert problems_on(analyst.page) == []

    row.locator("a.case-link").click()
    analyst.page.wait_for_selector("#case")
    evidence = analyst.inner_text("#case-alerts")
    assert "GBP 1,050.00" in evidence and "24 hours" in evidence and "Number of deposits" in evidence
    assert analyst.locator("#case-transactions .case-transaction").count() == 3
    assert "Lance Vance" in analyst.inner_text("#case-linked-players")
    analyst.shot("cases-2-case-page")
    assert problems_on(analyst.page) == []

    with analyst.page.expect_navigation():
        analyst.click("#case-form-start button[type=submit]")
    assert "Work started" in analyst.inner_text("body")
    analyst.fill("#case-form-note textarea", "Three deposits from one card within the hour; asked for the source.")
    with analyst.page.expect_navigation():
        analyst.click("#case-form-note button[type=submit]")
    assert "Three deposits from one card" in analyst.inner_text("#case-timeline")

    analyst.page.check("#case-form-close input[value=confirmed]")
    analyst.fill("#case-form-close textarea", "No source of funds; deposits structured under the daily threshold.")
    with analyst.page.expect_navigation():
        analyst.click("#case-form-close button[type=submit]")
    assert "needs a second person" in analyst.inner_text("body")
    assert analyst.locator("#case-pending-approval").is_visible()
    analyst.shot("cases-3-waiting-for-second-person")
    case.refresh_from_db()
    assert case.state == CaseState.PENDING_APPROVAL

    mlro = staff_browser.login(mlro_user)
    item = mlro.locator("#work li[data-queue='compliance.closings_to_approve']")
    assert item.get_attribute("data-count") == "1"
    mlro.shot("cases-4-mlro-start-page")
    item.locator("a").click()
    mlro.page.wait_for_selector("#changelist")
    request_row = mlro.locator("#result_list tbody tr").filter(has_text="Case closed as confirmed")
    assert request_row.count() == 1
    mlro.shot("cases-5-approvals-inbox")
    request_row.locator("th a, td a").first.click()
    mlro.page.wait_for_selector("#approval-decision")
    mlro.shot("cases-6-approval")
    with mlro.page.expect_navigation():
        mlro.click("#approval-decision button[value=approve]")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.outcome == Outcome.CONFIRMED
    assert case.closed_by == case.assignee

    mlro.goto(f"/admin/compliance/case/{case.pk}/change/")
    assert "Closed: confirmed" in mlro.inner_text("#case-state")
    assert "Second approval given" in mlro.inner_text("#case-timeline")
    mlro.shot("cases-7-closed-confirmed")
    assert CaseEvent.objects.filter(case=case, kind="approval").count() == 2


def test_an_analyst_drafts_a_rule_version_and_the_mlro_publishes_it(staff_browser, alerted_case):
    """The rules' pages as an analyst reads them: the list with live versions and precision, a rule's page with
    its kind's typed parameters, a draft asked for publication, the MLRO's approval."""
    rule = alerted_case.alerts.get().rule
    analyst = staff_browser.login(alerted_case.assignee)
    analyst.goto("/admin/compliance/rule/")
    assert "gbp-1000-a-day" in analyst.inner_text("#result_list")
    analyst.shot("cases-8-rules")
    analyst.locator("a.rule-link").filter(has_text="gbp-1000-a-day").click()
    analyst.page.wait_for_selector("#rule-draft")
    analyst.fill("#version-p_amount", "800 GBP")
    analyst.fill("#version-p_window", "48h")
    analyst.fill("#version-note", "Two days, lower threshold")
    analyst.shot("cases-9-rule-page")
    assert problems_on(analyst.page) == []
    with analyst.page.expect_navigation():
        analyst.click("#rule-draft button[type=submit]")
    analyst.page.wait_for_selector("#version-publish")
    assert "GBP 800.00" in analyst.inner_text("#version-params") or "800.00" in analyst.inner_text("#version-params")
    analyst.fill("#publish-reason", "Catch two-day structuring")
    with analyst.page.expect_navigation():
        analyst.click("#version-publish button[type=submit]")
    assert "a second person (the MLRO) decides it" in analyst.inner_text("body")
    analyst.shot("cases-10-version-waiting")
    draft = RuleVersion.objects.get(rule=rule, number=2)
    assert draft.state == VersionState.PENDING

    mlro = staff_browser.login(StaffUserFactory(roles=[roles.MLRO]))
    mlro.goto("/admin/approvals/approval/?kind=compliance.rule_publish")
    mlro.locator("#result_list tbody tr td a, #result_list tbody tr th a").first.click()
    mlro.page.wait_for_selector("#approval-decision")
    with mlro.page.expect_navigation():
        mlro.click("#approval-decision button[value=approve]")
    draft.refresh_from_db()
    assert draft.state == VersionState.PUBLISHED
    mlro.goto(f"/admin/compliance/ruleversion/{draft.pk}/change/")
    assert "Published" in mlro.inner_text("#version-state")
    mlro.shot("cases-11-version-published")


def _loaded_player_page(staff, player) -> tuple[str, list[str]]:
    """The player page as the browser shows it once every deferred section has loaded (or left: a 204), its text
    without the player's own names and its section headings."""
    staff.goto(f"/admin/players/player/{player.pk}/change/")
    for _ in range(20):  # each placeholder loads when scrolled near
        pending = staff.locator(".player-deferred[data-url]:not([data-state])")
        if pending.count() == 0:
            break
        pending.first.scroll_into_view_if_needed()
        staff.page.wait_for_timeout(100)
    staff.page.wait_for_load_state("networkidle")
    assert staff.locator(".player-deferred[data-state=loading], .player-deferred[data-state=failed]").count() == 0
    text, headings = staff.inner_text("body"), staff.locator("h2").all_inner_texts()
    for word in (player.first_name, player.last_name, player.external_id, player.username, player.email):
        text, headings = text.replace(word, ""), [h.replace(word, "") for h in headings]
    return text, headings


def test_a_support_agent_cannot_tell_that_any_of_it_exists(staff_browser, alerted_case):
    case = alerted_case
    rule_name = case.alerts.get().rule.name
    twin = PlayerFactory(first_name="Lucy", last_name="Vance", currency="GBP", country="GB")  # no case, no alert
    support = staff_browser.login(StaffUserFactory(roles=[roles.SUPPORT_AGENT]))
    assert support.locator("#work li[data-queue^='compliance.']").count() == 0
    assert "/admin/compliance/" not in support.page.content()
    suspect_text, suspect_headings = _loaded_player_page(support, case.player)
    support.shot("cases-12-support-agent-player-page")
    twin_text, twin_headings = _loaded_player_page(support, twin)
    assert suspect_headings == twin_headings and "AML cases" not in suspect_headings
    assert sorted(w.lower() for w in WORDS.findall(suspect_text)) == sorted(w.lower() for w in WORDS.findall(twin_text))
    assert rule_name not in suspect_text and f"Case #{case.pk}" not in suspect_text
    for term in ("case", "aml", rule_name):
        support.goto(f"/admin/search/?s={term}&extended=1")
        assert "/admin/compliance/" not in support.page.content() and rule_name not in support.inner_text("body")
    support.guard.allow(403, 404)  # the case's address, as a page that does not exist
    missing = support.page.goto(f"{support.base_url}/admin/compliance/case/99999999/change/")
    real = support.page.goto(f"{support.base_url}/admin/compliance/case/{case.pk}/change/")
    assert missing is not None and real is not None and real.status == missing.status
    assert rule_name not in support.inner_text("body")
