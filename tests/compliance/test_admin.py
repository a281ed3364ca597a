"""The compliance admin: the case inbox and the case page render for an AML Analyst and the MLRO, every form posts
to its service and a refusal is one message on the page (never a 500, never a change), bulk assignment, opening a
case by hand, the rules' pages and forms, the configuration pages, the start page's queues and the player page's
section; hostile input (NUL bytes, huge text, odd filter values) answers with a message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.utils import timezone

from apps.approvals.models import Approval
from apps.compliance import cases
from apps.compliance.choices import CaseEventKind, CaseState, Outcome, VersionState
from apps.compliance.models import Alert, Case, CaseEvent, CaseInbox, Rule, RuleSnooze, RuleVersion
from apps.staff import roles
from apps.wallet.models import WithdrawalHold
from tests.compliance.conftest import deposit, drain, gbp, login, publish, withdraw
from tests.conftest import verified_client
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_seed_rules")]
INBOX = "/admin/compliance/case/"


def page_of(case: Case) -> str:
    return f"{INBOX}{case.pk}/change/"


def do(case: Case, what: str) -> str:
    return f"{INBOX}{case.pk}/do/{what}/"


def said(response: Any) -> str:
    """The last message the response left (earlier ones wait for a page that shows them: redirects are not
    followed here)."""
    found = [str(m) for m in get_messages(response.wsgi_request)]
    return found[-1] if found else ""


@pytest.fixture
def analyst():
    return StaffUserFactory(roles=[roles.AML_ANALYST], first_name="Ana", last_name="Lyst")


@pytest.fixture
def mlro():
    return StaffUserFactory(roles=[roles.MLRO], first_name="Mel", last_name="Lead")


@pytest.fixture
def suspect():
    return PlayerFactory(first_name="Sam", last_name="Suspect", currency="GBP", country="GB")


@pytest.fixture
def alerted(analyst, suspect) -> Case:
    """Two deposits of GBP 300 in a day: a live 'GBP 500 in 24 hours' rule raises an alert that opens a case,
    routed to the Compliance inbox and assigned round-robin to the analyst (its only member)."""
    publish("amount_window", {"amount": gbp("500.00"), "window": "24h"}, code="gbp-500-a-day")
    deposit(suspect, "300.00", instrument="card-aaaa")
    deposit(suspect, "300.00", instrument="card-aaaa")
    drain()
    case = Case.objects.get(player=suspect)
    assert case.assignee == analyst and case.alerts.count() == 1
    return case


def test_the_inbox_lists_the_analysts_cases_with_sla_alerts_and_player(alerted, analyst, suspect):
    response = verified_client(analyst).get(INBOX)
    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [alerted.pk]
    html = response.content.decode()
    assert f"#{alerted.pk}" in html and "Sam Suspect" in html and suspect.external_id in html
    assert "case-sla-on_track" in html and "due in" in html
    assert response.context["cl"].result_list[0].alerts_count == 1
    assert "Assign to the analyst chosen" not in html  # analysts do not assign


def test_the_inbox_filters_and_searches(alerted, mlro, suspect):
    client = verified_client(mlro)
    other = cases.case_open(actor=mlro, player=PlayerFactory(), case_type="fraud", title="Chargebacks", priority="high")
    ids = lambda r: sorted(c.pk for c in r.context["cl"].result_list)  # noqa: E731
    assert ids(client.get(INBOX)) == sorted([alerted.pk, other.pk])
    assert ids(client.get(INBOX, {"priority": "high"})) == [other.pk]
    assert ids(client.get(INBOX, {"type": "aml"})) == [alerted.pk]
    assert ids(client.get(INBOX, {"sla": "breached"})) == []
    assert ids(client.get(INBOX, {"q": suspect.external_id})) == [alerted.pk]
    assert ids(client.get(INBOX, {"q": f"#{other.pk}"})) == [other.pk]
    assert ids(client.get(INBOX, {"assignee": "me"})) == []
    assert ids(client.get(INBOX, {"state": "closed"})) == []


def test_the_case_page_shows_header_timeline_evidence_transactions_and_forms(alerted, analyst):
    response = verified_client(analyst).get(page_of(alerted))
    assert response.status_code == 200
    html = response.content.decode()
    for part in ("case-summary", "case-timeline", "case-alerts", "case-transactions", "case-linked-players"):
        assert f'id="{part}"' in html, part
    assert "Number of deposits" in html and "GBP 600.00" in html and "24 hours" in html  # the evidence in words
    assert html.count('class="case-transaction"') == 2 and "GBP 300.00" in html  # the money filter's format
    assert "Opened the case" in html and "Linked an alert" in html
    for form in ("start", "note", "wait", "escalate", "close", "action"):
        assert f'id="case-form-{form}"' in html, form
    assert 'id="case-form-assign"' not in html and 'id="case-form-reopen"' not in html
    assert "needs a second person" in html


def test_linked_players_share_a_device_ip_or_instrument(alerted, analyst, suspect, django_assert_max_num_queries):
    twin = PlayerFactory(first_name="Tom", last_name="Twin", currency="GBP")
    login(suspect, device="dev-123", ip="81.2.69.160")
    login(twin, device="dev-123", ip="81.2.69.161")
    stranger = PlayerFactory(first_name="Una", last_name="Related", currency="GBP")
    deposit(stranger, "10.00", instrument="card-aaaa")
    response = verified_client(analyst).get(page_of(alerted))
    shared = {row["player"].pk: [w for w, _ in row["shares"]] for row in response.context["linked"]}
    assert shared == {twin.pk: ["device"], stranger.pk: ["payment instrument"]}
    assert "Tom Twin" in response.content.decode()
    from apps.compliance.admin.case_page import linked_players

    for n in range(10):  # more identifiers and players cost no more queries
        login(suspect, device=f"dev-{n}", ip=f"81.2.69.{170 + n}")
        login(PlayerFactory(), device=f"dev-{n}")
    with django_assert_max_num_queries(7):
        assert len(linked_players(suspect)) == 12


def test_each_form_calls_its_service(alerted, analyst):
    client = verified_client(analyst)
    response = client.post(do(alerted, "start"))
    assert response.status_code == 302 and said(response) == "Work started: the case is in progress."
    response = client.post(do(alerted, "note"), {"text": "Three cards in a day"})
    assert response.status_code == 302
    assert CaseEvent.objects.filter(case=alerted, kind=CaseEventKind.NOTE, text="Three cards in a day").exists()
    client.post(do(alerted, "wait"), {"waiting_on": "player", "text": "Asked for bank statements"})
    alerted.refresh_from_db()
    assert alerted.state == CaseState.WAITING and alerted.paused_at is not None
    page = client.get(page_of(alerted)).content.decode()
    assert 'id="case-clock-paused"' in page and "paused (waiting for the player)" in page
    client.post(do(alerted, "resume"), {"text": "Statements came"})
    alerted.refresh_from_db()
    assert alerted.state == CaseState.IN_PROGRESS and alerted.paused_at is None
    client.post(do(alerted, "close"), {"outcome": "refuted", "reason": "Salary paid in cash, documented"})
    alerted.refresh_from_db()
    assert alerted.state == CaseState.CLOSED and alerted.outcome == Outcome.REFUTED
    assert 'id="case-form-reopen"' in client.get(page_of(alerted)).content.decode()
    client.post(do(alerted, "reopen"), {"reason": "New deposits from the same three cards"})
    alerted.refresh_from_db()
    assert alerted.state == CaseState.IN_PROGRESS and alerted.reopen_count == 1
    client.post(do(alerted, "escalate"), {"text": "Pattern continues"})
    alerted.refresh_from_db()
    assert alerted.state == CaseState.ESCALATED


def test_a_confirmed_closing_waits_for_the_mlro_in_the_approvals_inbox(alerted, analyst, mlro):
    client = verified_client(analyst)
    client.post(do(alerted, "start"))
    response = client.post(do(alerted, "close"), {"outcome": "confirmed", "reason": "Structuring over three cards"})
    assert said(response) == "Closing as confirmed needs a second person: the request waits in the Approvals inbox."
    alerted.refresh_from_db()
    assert alerted.state == CaseState.PENDING_APPROVAL
    assert 'id="case-pending-approval"' in client.get(page_of(alerted)).content.decode()
    approval = Approval.objects.get(kind=cases.CONFIRM_KIND, target_id=str(alerted.pk))
    lead = verified_client(mlro)
    assert lead.get("/admin/approvals/approval/", {"kind": cases.CONFIRM_KIND}).context["cl"].result_count == 1
    response = lead.post(f"/admin/approvals/approval/{approval.pk}/change/", {"_decision": "approve"})
    assert response.status_code == 302
    alerted.refresh_from_db()
    assert alerted.state == CaseState.CLOSED and alerted.outcome == Outcome.CONFIRMED
    assert alerted.closed_by == analyst
    closed = lead.get(page_of(alerted)).content.decode()
    assert "Closed: confirmed" in closed and "(second approval: Mel Lead)" in closed


def test_a_refusal_is_one_message_and_changes_nothing(alerted, analyst):
    client = verified_client(analyst)
    client.post(do(alerted, "start"))
    before = CaseEvent.objects.count()
    response = client.post(do(alerted, "start"))  # already in progress
    assert response.status_code == 200
    assert said(response) == "Nothing was done: A case that is in progress cannot be started now."
    response = client.post(do(alerted, "close"), {"outcome": "refuted", "reason": "done"})
    client.post(do(alerted, "reopen"), {"reason": "too short"})
    response = client.post(do(alerted, "reopen"), {"reason": "too short"})
    assert response.status_code == 200 and "at least 20 characters" in said(response)
    alerted.refresh_from_db()
    assert alerted.state == CaseState.CLOSED and CaseEvent.objects.count() == before + 1  # the closing only
    assert client.post(do(alerted, "nonsense")).status_code == 404


@pytest.mark.parametrize(
    ("what", "data"),
    [
        ("note", {"text": "before\x00after"}),
        ("note", {"text": "x" * 100_000}),
        ("note", {"text": ""}),
        ("wait", {"waiting_on": "the moon", "text": "x"}),
        ("close", {"outcome": "maybe", "reason": "x"}),
        ("action", {"action": "nuke", "reason": "x"}),
        ("action", {"action": "restrict_account", "reason": "\x00"}),
        ("assign", {"assignee": "\x00"}),
    ],
)
def test_hostile_input_is_a_message_never_a_500(alerted, mlro, what, data):
    before = (CaseEvent.objects.count(), Case.objects.get(pk=alerted.pk).state)
    response = verified_client(mlro).post(do(alerted, what), data)
    assert response.status_code == 200
    assert said(response).startswith("Nothing was done")
    assert (CaseEvent.objects.count(), Case.objects.get(pk=alerted.pk).state) == before


@pytest.mark.parametrize(
    "query",
    [{"q": "\x00"}, {"q": "x" * 5000}, {"state": "\x00"}, {"inbox": "1\x00"}, {"sla": "nope"}, {"priority": "\x00"}],
)
def test_hostile_filters_and_search_answer_the_list(alerted, mlro, query):
    response = verified_client(mlro).get(INBOX, query)
    nul = any("\x00" in v for v in query.values())
    assert response.status_code in ((400, 404) if nul else (200, 302))  # NUL in a URL: refused before the admin


def test_hostile_urls_are_404(alerted, mlro):
    client = verified_client(mlro)
    assert client.get(f"{INBOX}99999999/change/").status_code == 404
    assert client.get(f"{INBOX}abc/change/").status_code == 404
    assert client.post(f"{INBOX}{alerted.pk}/change/", {"x": "1"}).status_code == 403


def test_bulk_assignment_by_the_mlro(alerted, analyst, mlro):
    second = StaffUserFactory(roles=[roles.AML_ANALYST], first_name="Bea", last_name="Second")
    other = cases.case_open(actor=mlro, player=PlayerFactory(), case_type="aml", title="Cash-out")
    client = verified_client(mlro)
    assert "Assign to the analyst chosen" in client.get(INBOX).content.decode()
    response = client.post(
        INBOX, {"action": "assign_to", "_selected_action": [alerted.pk, other.pk], "assignee": second.pk}
    )
    assert response.status_code == 302 and said(response) == "2 cases assigned to Bea Second."
    assert set(Case.objects.filter(assignee=second).values_list("pk", flat=True)) == {alerted.pk, other.pk}
    # someone outside the inbox's team (the inbox moves to a team the outsider is not in): all or nothing
    team = Group.objects.create(name="AML team")
    second.groups.add(team)
    CaseInbox.objects.filter(name="Compliance").update(team=team)
    outsider = StaffUserFactory(roles=[roles.AML_ANALYST])
    response = client.post(INBOX, {"action": "assign_to", "_selected_action": [alerted.pk], "assignee": outsider.pk})
    assert said(response).startswith("No case was assigned (all or none): They cannot work this case")
    assert Case.objects.get(pk=alerted.pk).assignee == second


def test_an_analyst_cannot_run_the_bulk_assignment(alerted, analyst):
    second = StaffUserFactory(roles=[roles.AML_ANALYST])
    verified_client(analyst).post(
        INBOX, {"action": "assign_to", "_selected_action": [alerted.pk], "assignee": second.pk}
    )
    assert Case.objects.get(pk=alerted.pk).assignee == analyst


def test_the_mlro_assigns_from_the_case_page(alerted, mlro):
    second = StaffUserFactory(roles=[roles.AML_ANALYST], first_name="Bea", last_name="Second")
    client = verified_client(mlro)
    assert 'id="case-form-assign"' in client.get(page_of(alerted)).content.decode()
    response = client.post(do(alerted, "assign"), {"assignee": second.pk})
    assert said(response) == "Assigned to Bea Second."
    assert Case.objects.get(pk=alerted.pk).assignee == second


def test_an_action_holds_the_players_withdrawals(alerted, analyst, suspect):
    withdrawal = withdraw(suspect, "100.00")
    response = verified_client(analyst).post(
        do(alerted, "action"), {"action": "hold_withdrawals", "reason": "Source of funds unclear"}
    )
    assert response.status_code == 302
    assert said(response) == "1 open withdrawal held (Finance reads “Held for review”)."
    assert WithdrawalHold.objects.filter(withdrawal=withdrawal, reason="Held for review").exists()


def test_opening_a_case_by_hand(analyst, suspect):
    client = verified_client(analyst)
    page = client.get(f"{INBOX}add/", {"player": suspect.pk})
    assert page.status_code == 200 and suspect.external_id in page.content.decode()
    data = {
        "player_external_id": suspect.external_id,
        "case_type": "fraud",
        "priority": "high",
        "title": "Chargebacks on three cards",
        "text": "Seen by support",
    }
    response = client.post(f"{INBOX}add/", data)
    case = Case.objects.get(player=suspect, type="fraud")
    assert response.status_code == 302 and response["Location"] == page_of(case)
    assert case.priority == "high" and case.events.first().text == "Seen by support"  # type: ignore[union-attr]
    again = client.post(f"{INBOX}add/", data)
    assert (
        again.status_code == 200
        and said(again) == "Nothing was opened: This player already has an open case of this type."
    )
    bad = client.post(f"{INBOX}add/", {**data, "player_external_id": "nobody\x00"})
    assert bad.status_code == 200 and said(bad).startswith("Nothing was opened")
    assert Case.objects.filter(player=suspect).count() == 1


def test_the_rules_pages_draft_ask_to_publish_retire_and_snooze(analyst, mlro, suspect):
    client = verified_client(analyst)
    response = client.post(
        "/admin/compliance/rule/add/", {"code": "cash-in-a-day", "name": "Cash in a day", "kind": "amount_window"}
    )
    rule = Rule.objects.get(code="cash-in-a-day")
    assert response.status_code == 302
    page = client.get(f"/admin/compliance/rule/{rule.pk}/change/")
    assert page.status_code == 200 and 'id="rule-draft"' in page.content.decode()
    form = {
        "score": "60",
        "case_type": "aml",
        "priority": "high",
        "mode": "live",
        "note": "first",
        "p_amount": "5000 GBP",
        "p_window": "24h",
    }
    bad = client.post(f"/admin/compliance/rule/{rule.pk}/draft/", {**form, "p_window": "forever"})
    assert bad.status_code == 200 and "No version was drafted" in said(bad)
    client.post(f"/admin/compliance/rule/{rule.pk}/draft/", form)
    version = RuleVersion.objects.get(rule=rule)
    assert version.params == {"amount": {"amount": "5000.00", "currency": "GBP"}, "window": "24h"}
    version_page = client.get(f"/admin/compliance/ruleversion/{version.pk}/change/").content.decode()
    assert "5000.00" in version_page and "24 hours" in version_page and 'id="version-publish"' in version_page
    client.post(f"/admin/compliance/ruleversion/{version.pk}/do/publish/", {"publish-reason": "CDD threshold"})
    assert RuleVersion.objects.get(pk=version.pk).state == VersionState.PENDING
    approval = Approval.objects.get(kind="compliance.rule_publish", target_id=str(version.pk))
    verified_client(mlro).post(f"/admin/approvals/approval/{approval.pk}/change/", {"_decision": "approve"})
    assert RuleVersion.objects.get(pk=version.pk).state == VersionState.PUBLISHED
    # the analyst may not retire; the MLRO may
    assert (
        client.post(f"/admin/compliance/ruleversion/{version.pk}/do/retire/", {"retire-reason": "x"}).status_code == 403
    )
    verified_client(mlro).post(
        f"/admin/compliance/ruleversion/{version.pk}/do/retire/", {"retire-reason": "Replaced by a 7-day rule"}
    )
    assert RuleVersion.objects.get(pk=version.pk).state == VersionState.RETIRED
    until = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = client.post(
        f"/admin/compliance/rule/{rule.pk}/snooze/",
        {"player_external_id": suspect.external_id, "until": until, "reason": "Known salary"},
    )
    assert response.status_code == 302 and RuleSnooze.objects.filter(rule=rule, player=suspect).exists()
    assert client.get("/admin/compliance/rule/").status_code == 200


def test_the_alerts_and_hits_lists_link_to_the_case(alerted, analyst, mlro):
    for user in (analyst, mlro):
        response = verified_client(user).get("/admin/compliance/alert/")
        assert response.status_code == 200
        assert f'href="/admin/compliance/case/{alerted.pk}/change/"' in response.content.decode()
    alert = Alert.objects.get(case=alerted)
    opened = verified_client(analyst).get(f"/admin/compliance/alert/{alert.pk}/change/")
    assert opened.status_code == 302 and opened["Location"].startswith(page_of(alerted))
    assert verified_client(mlro).get("/admin/compliance/rulehit/").status_code == 200
    # an analyst outside the case's inbox (it moves to another team) sees neither the alert nor its case
    CaseInbox.objects.filter(name="Compliance").update(team=Group.objects.create(name="AML team"))
    outsider = StaffUserFactory(roles=[roles.AML_ANALYST])
    client = verified_client(outsider)
    assert [a.pk for a in client.get("/admin/compliance/alert/").context["cl"].result_list] == []


def test_the_administrator_configures_inboxes_and_sees_no_case(alerted):
    admin_user = StaffUserFactory(roles=[roles.ADMINISTRATOR])
    client = verified_client(admin_user)
    inbox = CaseInbox.objects.get(name="Compliance")
    listing = client.get("/admin/compliance/caseinbox/")
    assert listing.status_code == 200
    page = client.get(f"/admin/compliance/caseinbox/{inbox.pk}/change/")
    assert page.status_code == 200
    for html in (listing.content.decode(), page.content.decode()):
        assert "Look at this" not in html and alerted.title not in html
        assert "open case" not in html.lower() and "1 case" not in html
    assert client.get(INBOX).status_code == 403
    assert client.get(page_of(alerted)).status_code in (403, 404)
    assert client.get("/admin/compliance/slapolicy/").status_code == 200
    assert client.get("/admin/compliance/analyststatus/").status_code == 200


def test_the_start_page_queues(alerted, analyst, mlro):
    def queues(user: Any) -> dict[str, int]:
        sections = verified_client(user).get("/admin/").context["work_sections"]
        return {item.queue.key: item.count.value for _, items in sections for item in items}

    assert queues(analyst)["compliance.my_cases"] == 1
    assert "compliance.breached" not in queues(analyst) and "compliance.closings_to_approve" not in queues(analyst)
    Case.objects.filter(pk=alerted.pk).update(sla_state="breached")
    assert queues(mlro)["compliance.breached"] == 1
    client = verified_client(analyst)
    client.post(do(alerted, "start"))
    client.post(do(alerted, "close"), {"outcome": "confirmed", "reason": "Structuring"})
    assert queues(mlro)["compliance.closings_to_approve"] == 1
    assert queues(analyst).get("compliance.closings_to_approve") is None


def test_the_player_page_section_for_compliance(alerted, analyst, suspect):
    client = verified_client(analyst)
    page = client.get(f"/admin/players/player/{suspect.pk}/change/").content.decode()
    assert "deferred-compliance" in page  # deferred: it loads after the page
    html = client.get(f"/admin/players/player/{suspect.pk}/section/compliance/?partial=1").content.decode()
    assert 'id="compliance-cases"' in html and f"#{alerted.pk}" in html and 'id="compliance-open-case"' in html


def test_the_analysts_status_page_goes_through_the_service(analyst, mlro):
    cases.analyst_set_away(actor=analyst, staff=analyst, away=True)
    status = analyst.case_status
    response = verified_client(mlro).post(
        f"/admin/compliance/analyststatus/{status.pk}/change/", {"away": "", "away_until": ""}
    )
    assert response.status_code == 302
    status.refresh_from_db()
    assert not status.away


def test_the_inbox_counts_the_members_open_cases_by_sla_state(alerted, analyst, mlro):
    other = cases.case_open(actor=mlro, player=PlayerFactory(), case_type="fraud", title="Chargebacks")
    Case.objects.filter(pk=other.pk).update(sla_state="breached")

    def counts(user: Any) -> dict[str, int]:
        rows = verified_client(user).get(INBOX).context["sla_counts"]
        return {row["state"]: row["count"].value for row in rows}

    assert counts(mlro) == {"on_track": 1, "at_risk": 0, "breached": 1}
    assert counts(analyst) == {"on_track": 1, "at_risk": 0, "breached": 1 if other.inbox == alerted.inbox else 0}
    html = verified_client(mlro).get(INBOX).content.decode()
    assert 'id="case-sla-counts"' in html and "?sla=breached" in html


def test_the_rules_list_shows_each_rules_precision_on_closed_cases(alerted, analyst, mlro):
    client = verified_client(analyst)
    client.post(do(alerted, "start"))
    client.post(do(alerted, "close"), {"outcome": "refuted", "reason": "Salary"})
    rule = Alert.objects.get(case=alerted).rule
    second = PlayerFactory(currency="GBP")
    deposit(second, "600.00")
    drain()
    confirmed = Case.objects.get(player=second)
    cases.case_start(actor=mlro, case=confirmed)
    cases.case_close(actor=mlro, case=confirmed, outcome="confirmed", reason="Mule")
    approval = Approval.objects.get(kind=cases.CONFIRM_KIND, target_id=str(confirmed.pk))
    from apps.approvals.services import approval_decide

    approval_decide(actor=StaffUserFactory(roles=[roles.MLRO]), approval=approval, approve=True)
    listing = client.get("/admin/compliance/rule/")
    row = next(r for r in listing.context["cl"].result_list if r.pk == rule.pk)
    assert (row.confirmed, row.refuted) == (1, 1)
    assert "50% (1 confirmed of 2)" in listing.content.decode()


def test_an_analyst_marks_themselves_away_and_back_from_the_inbox(analyst):
    client = verified_client(analyst)
    assert 'id="case-away"' in client.get(INBOX).content.decode()
    response = client.post(f"{INBOX}away/", {"away": "1"})
    assert response.status_code == 302 and said(response).startswith("You are marked away")
    assert analyst.case_status.away
    assert "You are away" in client.get(INBOX).content.decode()
    client.post(f"{INBOX}away/", {"away": "0"})
    analyst.case_status.refresh_from_db()
    assert not analyst.case_status.away
    outsider = verified_client(StaffUserFactory(roles=[roles.SUPPORT_AGENT]))
    assert outsider.post(f"{INBOX}away/", {"away": "1"}).status_code == 403


def test_a_file_is_attached_through_the_kyc_validation_and_read_back_audited(alerted, analyst, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.audit.models import AuditEvent
    from tests.kyc import documents as files

    settings.KYC_FILES_ROOT = str(tmp_path / "files")
    client = verified_client(analyst)
    assert 'id="case-form-attach"' in client.get(page_of(alerted)).content.decode()
    response = client.post(do(alerted, "attach"), {"file": SimpleUploadedFile("statement.pdf", files.pdf())})
    assert response.status_code == 302 and said(response).startswith("statement.pdf attached")
    attachment = alerted.attachments.get()
    page = client.get(page_of(alerted)).content.decode()
    link = f"/admin/compliance/case/{alerted.pk}/attachments/{attachment.pk}/"
    assert link in page
    download = client.get(link)
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert download["Content-Disposition"] == 'attachment; filename="statement.pdf"'
    assert AuditEvent.objects.filter(action="compliance.case_attachment_read").count() == 1
    # a file that is not what it says: one message, nothing kept
    bad = client.post(do(alerted, "attach"), {"file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00not a pdf")})
    assert bad.status_code == 200 and said(bad).startswith("Nothing was done")
    assert alerted.attachments.count() == 1
    # outside the wall the file does not exist
    outsider = verified_client(StaffUserFactory(roles=[roles.SUPPORT_AGENT]))
    assert outsider.get(link).status_code == 404


def test_a_version_page_runs_a_backtest_and_shows_its_result(analyst, suspect):
    from apps.core.jobs import job_run_slice
    from apps.core.models import Job

    for amount in ("900.00", "900.00"):
        deposit(suspect, amount)
    live = publish("amount_window", {"amount": gbp("1000.00"), "window": "24h"}, code="bt-live")
    draft = RuleVersion.objects.create(
        rule=live.rule, number=2, kind=live.kind, params={**live.params, "amount": gbp("500.00")}, priority="high"
    )
    client = verified_client(analyst)
    page = client.get(f"/admin/compliance/ruleversion/{draft.pk}/change/").content.decode()
    assert 'id="backtest-start"' in page or 'name="backtest-start"' in page
    today = timezone.now().date()
    bad = client.post(
        f"/admin/compliance/ruleversion/{draft.pk}/do/backtest/",
        {"backtest-start": today.isoformat(), "backtest-end": today.isoformat()},
    )
    assert bad.status_code == 200 and said(bad).startswith("Nothing was done")
    client.post(
        f"/admin/compliance/ruleversion/{draft.pk}/do/backtest/",
        {"backtest-start": today.isoformat(), "backtest-end": (today + timedelta(days=1)).isoformat()},
    )
    job = Job.objects.get(kind="compliance.backtest")
    running = client.get(f"/admin/compliance/ruleversion/{draft.pk}/change/").content.decode()
    assert 'id="backtest-percent"' in running and 'http-equiv="refresh"' in running
    while job_run_slice(job.pk).status == "running":
        pass
    done = client.get(f"/admin/compliance/ruleversion/{draft.pk}/change/").content.decode()
    assert 'id="backtest-result"' in done and "The live version" in done
    support = verified_client(StaffUserFactory(roles=[roles.SUPPORT_AGENT]))
    refused = support.post(
        f"/admin/compliance/ruleversion/{draft.pk}/do/backtest/",
        {"backtest-start": today.isoformat(), "backtest-end": (today + timedelta(days=1)).isoformat()},
    )
    assert refused.status_code in (403, 404)
    assert Job.objects.filter(kind="compliance.backtest").count() == 1


def test_the_case_page_says_in_words_why_a_country_rule_fired(analyst):
    from apps.compliance import evaluation

    publish("country_mismatch", {"residence_mismatch": True, "high_risk_countries": ["IR"]}, code="country-words")
    traveller = PlayerFactory(first_name="Tia", last_name="Traveller", currency="GBP", country="GB")
    login(traveller, country="IR", ip="5.160.0.1")
    now = timezone.now()
    evaluation.sweep(now=now, since=now - timedelta(minutes=10))
    case = Case.objects.get(player=traveller)
    html = verified_client(analyst).get(page_of(case)).content.decode()
    assert "logins from a country other than the residence; logins from a high-risk country" in html
    assert "ip country differs" not in html


def test_the_case_page_lists_the_bonus_flags_behind_a_bonus_abuse_alert(analyst):
    from apps.bonuses.flags import raise_flag
    from apps.compliance import evaluation

    publish("bonus_abuse", {"count": 2}, code="bonus-flags-words", case_type="fraud")
    player, other = PlayerFactory(first_name="Bo", last_name="Nus"), PlayerFactory()
    raise_flag(None, player.pk, "shared_ip", others=[other.pk], evidence={"ip": ["81.2.69.160"]})
    raise_flag(None, player.pk, "one_game", others=[], evidence={"game": "starburst"})
    now = timezone.now()
    evaluation.sweep(now=now, since=now - timedelta(minutes=10))
    case = Case.objects.get(player=player, type="fraud")
    assert case.alerts.count() == 1
    html = verified_client(analyst).get(page_of(case)).content.decode()
    for words in (
        "Bonus-abuse flags in the window",
        "An IP address shared with another recipient",
        "Wagering cleared on one high-return game",
        "30 days",
    ):
        assert words in html, words
    assert "None" not in html.split('id="case-alerts"')[1].split("</section>")[0]


def test_a_bonus_abuse_rule_is_drafted_on_its_page_with_the_engines_flags(analyst):
    client = verified_client(analyst)
    client.post("/admin/compliance/rule/add/", {"code": "bonus-rings", "name": "Bonus rings", "kind": "bonus_abuse"})
    rule = Rule.objects.get(code="bonus-rings")
    page = client.get(f"/admin/compliance/rule/{rule.pk}/change/").content.decode()
    assert "shared_device, shared_ip" in page  # the kinds the flags parameter accepts, in its help
    form = {"score": "70", "case_type": "fraud", "priority": "high", "mode": "shadow", "note": "rings"}
    bad = client.post(f"/admin/compliance/rule/{rule.pk}/draft/", {**form, "p_flags": "multi_account"})
    assert "No version was drafted" in said(bad) and not RuleVersion.objects.filter(rule=rule).exists()
    client.post(f"/admin/compliance/rule/{rule.pk}/draft/", {**form, "p_flags": "shared_ip, one_game", "p_count": "2"})
    version = RuleVersion.objects.get(rule=rule)
    assert version.params == {"flags": ["one_game", "shared_ip"], "count": 2, "window": "30d"}
    client.post(f"/admin/compliance/ruleversion/{version.pk}/do/publish/", {"publish-reason": "Catch bonus rings"})
    assert RuleVersion.objects.get(pk=version.pk).state == VersionState.PENDING
