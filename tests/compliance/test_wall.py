"""The tipping-off wall, place by place: for a Support Agent, a CRM Manager, a Finance Officer and a KYC Officer (and
the Administrator, for the cases themselves) nothing of AML monitoring shows: the case, alert and rule URLs answer
403 or 404 (the same as for a case that does not exist), the player page of a player with an open case and an alert
reads as any other player's (no section, no placeholder, no word of it), the audit trail has no compliance event in
its list, search, filters or pages, the Approvals inbox has no case-closing request, the start page no case queue,
the search palette no case, a withdrawal held from a case reads "Held for review" to Finance, and the platform API
says nothing. And the other side: the analyst and the MLRO see what they should."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.compliance import cases
from apps.compliance.actions import case_action
from apps.compliance.models import Alert, Case, Rule
from apps.players.page import _sections
from apps.staff import roles
from tests.compliance.conftest import deposit, drain, gbp, publish, withdraw
from tests.conftest import make_platform_client, verified_client
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_seed_rules")]

OUTSIDERS = [roles.SUPPORT_AGENT, roles.CRM_MANAGER, roles.FINANCE_OFFICER, roles.KYC_OFFICER]
WALLED = [*OUTSIDERS, roles.ADMINISTRATOR]
TITLE = "Deposits of 600 in a day"
REASON = "Suspected structuring across three cards"
# what would tell a reader that AML monitoring looks at this player
WORDS = re.compile(r"(?i)\b(cases?|alerts?|aml|compliance|suspicious|laundering|structuring|mlro)\b")


@pytest.fixture
def world() -> dict[str, Any]:
    """A player with an alert-opened case (assigned to the analyst), a withdrawal held from it, and a control
    player without any of it."""
    analyst = StaffUserFactory(roles=[roles.AML_ANALYST])
    mlro = StaffUserFactory(roles=[roles.MLRO])
    suspect = PlayerFactory(first_name="Sam", last_name="Suspect", currency="GBP")
    control = PlayerFactory(first_name="Cal", last_name="Control", currency="GBP")
    version = publish("amount_window", {"amount": gbp("500.00"), "window": "24h"}, code="gbp-500-wall")
    Rule.objects.filter(pk=version.rule_id).update(name=TITLE)
    for player in (suspect, control):
        deposit(player, "300.00", instrument=f"card-{player.pk}")
    deposit(suspect, "300.00", instrument=f"card-{suspect.pk}")
    drain()
    case = Case.objects.get(player=suspect)
    assert case.assignee == analyst and Alert.objects.filter(player=suspect).count() == 1
    withdrawal = withdraw(suspect, "100.00")
    withdraw(control, "100.00")
    case_action(actor=analyst, case=case, action="hold_withdrawals", reason=REASON)
    cases.case_note(actor=analyst, case=case, text=REASON)
    cases.case_start(actor=analyst, case=case)
    cases.case_close(actor=analyst, case=case, outcome="confirmed", reason=REASON)
    return {
        "analyst": analyst,
        "mlro": mlro,
        "suspect": suspect,
        "control": control,
        "case": Case.objects.get(pk=case.pk),
        "alert": Alert.objects.get(player=suspect),
        "withdrawal": withdrawal,
        "rule": Rule.objects.get(pk=version.rule_id),
        "version": version,
    }


def client_of(role: str) -> Client:
    return verified_client(StaffUserFactory(roles=[role]))


def compliance_urls(w: dict[str, Any]) -> list[str]:
    case, alert, rule, version = w["case"], w["alert"], w["rule"], w["version"]
    base = "/admin/compliance/"
    return [
        f"{base}case/",
        f"{base}case/?state=all",
        f"{base}case/{case.pk}/change/",
        f"{base}case/{case.pk}/history/",
        f"{base}case/{case.pk}/do/note/",
        f"{base}case/add/",
        f"{base}case/99999999/change/",
        f"{base}alert/",
        f"{base}alert/{alert.pk}/change/",
        f"{base}rule/",
        f"{base}rule/{rule.pk}/change/",
        f"{base}ruleversion/",
        f"{base}ruleversion/{version.pk}/change/",
        f"{base}rulehit/",
        f"{base}rulesnooze/",
        f"{base}",
    ]


@pytest.mark.parametrize("role", WALLED)
def test_the_case_alert_and_rule_pages_are_closed(world, role):
    client = client_of(role)
    for url in compliance_urls(world):
        if role == roles.ADMINISTRATOR and url == "/admin/compliance/":
            continue  # the Administrator's configuration pages live there (tested below: no case on them)
        response = client.get(url)
        assert response.status_code in (403, 404), (url, response.status_code)
        assert TITLE.encode() not in response.content and REASON.encode() not in response.content
    before = world["case"].events.count()
    response = client.post(f"/admin/compliance/case/{world['case'].pk}/do/note/", {"text": "hello"})
    assert response.status_code in (403, 404)
    assert world["case"].events.count() == before


@pytest.mark.parametrize("role", WALLED)
def test_a_case_that_exists_and_one_that_does_not_answer_the_same(world, role):
    client = client_of(role)
    real = client.get(f"/admin/compliance/case/{world['case'].pk}/change/")
    missing = client.get("/admin/compliance/case/99999999/change/")
    assert real.status_code == missing.status_code


def _page_words(client: Client, player: Any) -> tuple[str, Counter[str]]:
    html = client.get(f"/admin/players/player/{player.pk}/change/").content.decode()
    for name in re.findall(r'id="deferred-([a-z_]+)"', html):  # the sections loaded after the page
        fragment = client.get(f"/admin/players/player/{player.pk}/section/{name}/", {"partial": "1"})
        html += fragment.content.decode()
    scrubbed = html.replace(player.first_name, "").replace(player.last_name, "").replace(player.external_id, "")
    return html, Counter(w.lower() for w in WORDS.findall(scrubbed))


@pytest.mark.parametrize("role", WALLED)
def test_the_player_page_reads_as_any_other_players(world, role):
    client = client_of(role)
    suspect_html, suspect_words = _page_words(client, world["suspect"])
    _, control_words = _page_words(client, world["control"])
    assert suspect_words == control_words  # the same words as a player no rule looked at
    # (the Administrator's menu links the inboxes it configures: /admin/compliance/caseinbox/)
    for leak in (
        TITLE,
        REASON,
        'id="compliance-cases"',
        "deferred-compliance",
        f"Case #{world['case'].pk}",
        "/admin/compliance/case/",
        "/admin/compliance/alert/",
        "/admin/compliance/rule",
    ):
        assert leak not in suspect_html, leak


def test_the_section_is_built_before_any_query_is_made_for_outsiders(world, django_assert_num_queries):
    from django.test import RequestFactory

    section = next(s for s in _sections if s.template == "admin/compliance/player_section.html")
    # a deferred section's placeholder shows to every viewer unless the section says who may see it
    assert not section.deferred or getattr(section, "visible", None) is not None
    for role in WALLED:
        request = RequestFactory().get("/")
        request.user = StaffUserFactory(roles=[role])
        request.user.get_all_permissions()  # the permission cache, loaded as the page's own checks do
        with django_assert_num_queries(0):
            assert section.context(request, world["suspect"]) is None


@pytest.mark.parametrize("role", [roles.ADMINISTRATOR])
def test_the_audit_trail_has_no_compliance_event_for_who_may_not_see_cases(world, role):
    client = client_of(role)
    assert AuditEvent.objects.filter(action__startswith="compliance.").count() >= 5
    hidden = AuditEvent.objects.filter(action__startswith="compliance.").order_by("id")
    listing = client.get("/admin/audit/auditevent/")
    assert listing.status_code == 200
    assert not [e for e in listing.context["cl"].result_list if e.action.startswith("compliance.")]
    assert b"compliance." not in listing.content  # nor an Approvals event of a compliance kind

    def walled(e: AuditEvent) -> bool:
        kind = e.data.get("kind") if isinstance(e.data, dict) else None
        return (
            e.action.startswith("compliance.")
            or e.target_type.startswith("compliance.")
            or str(kind or "").startswith("compliance.")
        )

    shown = sorted(e.pk for e in AuditEvent.objects.all() if not walled(e))
    assert sorted(e.pk for e in listing.context["cl"].queryset) == shown  # every other event still listed
    for query in (
        {"q": "compliance."},
        {"q": "compliance.case_opened"},
        {"q": f"compliance.case:{world['case'].pk}"},
        {"action": "compliance."},
        {"target": "compliance.case"},
        {"q": TITLE},
    ):
        response = client.get("/admin/audit/auditevent/", query)
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [], query
    missing = client.get("/admin/audit/auditevent/999999999/change/")
    for event in hidden[:20]:  # the same answer as for an event that does not exist
        response = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
        assert (response.status_code, response.get("Location")) == (missing.status_code, missing.get("Location"))
        assert response.status_code in (302, 404)


@pytest.mark.parametrize("role", OUTSIDERS)
def test_the_audit_trail_is_closed_to_the_other_roles(world, role):
    assert client_of(role).get("/admin/audit/auditevent/").status_code in (403, 404)


def test_the_analyst_and_mlro_read_the_compliance_events(world):
    for user in (world["analyst"], world["mlro"]):
        response = verified_client(user).get("/admin/audit/auditevent/", {"action": "compliance."})
        assert response.context["cl"].result_count >= 5


@pytest.mark.parametrize("role", WALLED)
def test_the_approvals_inbox_has_no_case_closing(world, role):
    client = client_of(role)
    response = client.get("/admin/approvals/approval/", {"state": "all"})
    if response.status_code in (403, 404):
        return
    assert not [a for a in response.context["cl"].result_list if a.kind == cases.CONFIRM_KIND]
    html = response.content.decode()
    assert REASON not in html and f"Case #{world['case'].pk}" not in html
    filtered = client.get("/admin/approvals/approval/", {"kind": cases.CONFIRM_KIND, "state": "all"})
    assert list(filtered.context["cl"].result_list) == []


@pytest.mark.parametrize("role", WALLED)
def test_the_start_page_has_no_case_queue(world, role):
    response = client_of(role).get("/admin/")
    keys = [item.queue.key for _, items in response.context["work_sections"] for item in items]
    assert not [k for k in keys if k.startswith("compliance.")]
    html = response.content.decode()
    assert 'data-queue="compliance.' not in html and "My cases" not in html
    assert "/admin/compliance/case/" not in html


@pytest.mark.parametrize("role", OUTSIDERS)
def test_the_menu_and_search_palette_know_no_cases(world, role):
    client = client_of(role)
    for term in ("case", "alert", "aml", TITLE.lower(), world["suspect"].external_id):
        html = client.get("/admin/search/", {"s": term, "extended": 1}).content.decode()
        assert "/admin/compliance/" not in html and TITLE not in html, term
    assert "/admin/compliance/" not in client.get("/admin/").content.decode()


def test_a_withdrawal_held_from_a_case_reads_held_for_review_to_finance(world):
    client = client_of(roles.FINANCE_OFFICER)
    page = client.get(f"/admin/wallet/withdrawal/{world['withdrawal'].pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Held for review" in html
    assert REASON not in html and TITLE not in html and "/admin/compliance/" not in html
    listing = client.get("/admin/wallet/withdrawal/", {"status": "all"}).content.decode()
    assert REASON not in listing and "/admin/compliance/" not in listing


def test_the_platform_api_says_nothing_about_cases(world):
    api = make_platform_client().api()
    suspect, control = world["suspect"], world["control"]
    paths = ["/", "/eligibility/", "/balance/", "/transactions/", "/withdrawals/", "/kyc/", "/responsible-gambling/"]
    for path in paths:
        for player in (suspect, control):
            response = api.get(f"/api/v1/players/{player.external_id}{path}")
            # eligibility asks for an action (400); withdrawals are only posted (405)
            assert response.status_code in (200, 400, 405), (path, response.status_code)
        answer = api.get(f"/api/v1/players/{suspect.external_id}{path}").content.decode()
        assert not WORDS.search(answer.replace('"review"', "")), (path, WORDS.findall(answer))
        assert TITLE not in answer and REASON not in answer


def test_the_analyst_and_the_mlro_see_the_case_everywhere_they_should(world):
    for user in (world["analyst"], world["mlro"]):
        client = verified_client(user)
        listing = client.get("/admin/compliance/case/", {"state": "all"})
        assert [c.pk for c in listing.context["cl"].result_list] == [world["case"].pk]
        page = client.get(f"/admin/compliance/case/{world['case'].pk}/change/").content.decode()
        assert REASON in page and TITLE in page
        player = client.get(f"/admin/players/player/{world['suspect'].pk}/change/").content.decode()
        assert "deferred-compliance" in player  # the section's place; it loads after the page
        section = client.get(f"/admin/players/player/{world['suspect'].pk}/section/compliance/?partial=1")
        assert section.status_code == 200
        assert 'id="compliance-cases"' in section.content.decode() and TITLE in section.content.decode()
        start = client.get("/admin/")
        keys = [item.queue.key for _, items in start.context["work_sections"] for item in items]
        assert "compliance.my_cases" in keys
    mlro_inbox = verified_client(world["mlro"]).get("/admin/approvals/approval/", {"kind": cases.CONFIRM_KIND})
    assert [a.target_id for a in mlro_inbox.context["cl"].result_list] == [str(world["case"].pk)]


@pytest.mark.parametrize("role", WALLED)
def test_the_deferred_cases_section_answers_nothing_outside_compliance(world, role):
    client = client_of(role)
    assert client.get(f"/admin/players/player/{world['suspect'].pk}/section/compliance/?partial=1").status_code == 204
    assert client.get(f"/admin/players/player/{world['suspect'].pk}/section/compliance/").status_code in (403, 404)


ACTION_REASON = "Card ring: three players fund one account"


@pytest.fixture
def acted_on(world: dict[str, Any]) -> dict[str, Any]:
    """The suspect's case (waiting for the MLRO's approval) takes every action, on a second open withdrawal too;
    the analyst's reason must stay on the case."""
    case = Case.objects.get(pk=world["case"].pk)
    withdraw(world["suspect"], "50.00")
    for action in ("hold_withdrawals", "require_edd", "restrict_account", "operator_exclusion"):
        case_action(actor=world["analyst"], case=case, action=action, reason=f"{ACTION_REASON} ({action})")
    return world


@pytest.mark.parametrize("role", WALLED)
def test_the_actions_of_a_case_read_neutrally_to_every_other_role(acted_on, role):
    client = client_of(role)
    html, _ = _page_words(client, acted_on["suspect"])
    assert ACTION_REASON not in html and TITLE not in html and "/admin/compliance/case/" not in html
    if role != roles.CRM_MANAGER:  # who reads exclusions' reasons reads the neutral one
        assert "Operator decision" in html
    for url in ("/admin/responsible/exclusion/", "/admin/wallet/withdrawal/?status=all", "/admin/audit/auditevent/"):
        response = client.get(url)
        assert response.status_code in (200, 403, 404), url
        assert ACTION_REASON not in response.content.decode(), url
    if role == roles.ADMINISTRATOR:  # the one walled role that reads the audit trail: every event's page
        for event in AuditEvent.objects.exclude(action__startswith="compliance.").order_by("id"):
            page = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
            assert ACTION_REASON not in page.content.decode(), event.action


def test_the_actions_of_a_case_tell_the_platform_nothing_of_it(acted_on):
    from apps.core.models import OutboxEvent

    for event in OutboxEvent.objects.all():
        text = str(event.data)
        assert ACTION_REASON not in text and not WORDS.search(text), (event.type, text)
    api = make_platform_client().api()
    for path in ("/", "/eligibility/?action=deposit", "/eligibility/?action=withdraw", "/kyc/"):
        answer = api.get(f"/api/v1/players/{acted_on['suspect'].external_id}{path}").content.decode()
        assert ACTION_REASON not in answer and not WORDS.search(answer), (path, WORDS.findall(answer))


def test_the_case_keeps_the_analysts_reasons(acted_on):
    actions = ("hold_withdrawals", "require_edd", "restrict_account", "operator_exclusion")
    texts = acted_on["case"].events.filter(kind="action", text__contains=ACTION_REASON).values_list("text", flat=True)
    assert len(texts) == 4
    logged = AuditEvent.objects.filter(action="compliance.case_action", data__reason__startswith=ACTION_REASON)
    assert sorted(e.data["reason"] for e in logged) == sorted(f"{ACTION_REASON} ({a})" for a in actions)
    assert {e.data["visibility"] for e in logged} == {"compliance"}


@pytest.mark.parametrize("role", WALLED)
def test_the_case_closings_approval_page_answers_as_one_that_does_not_exist(world, role):
    from apps.approvals.models import Approval

    approval = Approval.objects.get(kind=cases.CONFIRM_KIND, target_id=str(world["case"].pk))
    client = client_of(role)
    real = client.get(f"/admin/approvals/approval/{approval.pk}/change/")
    missing = client.get("/admin/approvals/approval/99999999/change/")
    assert (real.status_code, real.get("Location")) == (missing.status_code, missing.get("Location"))
    assert real.status_code in (302, 403, 404) and REASON not in real.content.decode()
    decided = client.post(f"/admin/approvals/approval/{approval.pk}/change/", {"_decision": "approve"})
    assert decided.status_code in (302, 403, 404) and REASON not in decided.content.decode()
    approval.refresh_from_db()
    assert approval.state == "pending"
    assert Case.objects.get(pk=world["case"].pk).state == "pending_approval"
