"""The KYC Officers' screens: the review queue scoped by assignment, the review page's decisions through the
services (``can()`` follows), the permission-checked file view, bulk assignment, Next review, the check list, the
player page's section and upload, and the queue's SQL staying safe at 100,000 reviews."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.approvals.models import Approval
from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.kyc import documents, reviews
from apps.kyc.choices import Source
from apps.kyc.errors import ReviewAssigneeInvalid, ReviewAssignNotPermitted, ReviewClosed
from apps.kyc.models import Document, Requirement, Review
from apps.players.eligibility import can
from apps.staff import roles
from tests.conftest import verified_client
from tests.factories import PlayerFactory, StaffUserFactory
from tests.kyc import documents as files

pytestmark = pytest.mark.django_db
PLATFORM = SystemActor("platform")
NEXT_YEAR = date.today() + timedelta(days=365)
QUEUE = "/admin/kyc/review/"


def upload(player: Any, document_type: str = "passport", data: bytes | None = None, **kwargs: Any) -> Document:
    if document_type == "passport":
        kwargs = {"issuing_country": "GB", "expires_on": NEXT_YEAR, "number": "P1234567", **kwargs}
    return documents.document_upload(
        actor=PLATFORM,
        player=player,
        document_type=document_type,
        data=data if data is not None else files.jpeg(),
        source=Source.API,
        **kwargs,
    )


def officer() -> Any:
    return StaffUserFactory(roles=[roles.KYC_OFFICER])


def lead() -> Any:
    return StaffUserFactory(roles=[roles.MLRO])


def assigned(review: Review, to: Any) -> Review:
    return reviews.review_assign(actor=lead(), review=review, assignee=to)


def shown(response: Any) -> list[int]:
    """The reviews the queue lists, checked in the HTML too: each one's row links to its review page."""
    listed = [r.pk for r in response.context["cl"].result_list]
    html = response.content.decode()
    assert all(f"/admin/kyc/review/{pk}/change/" in html for pk in listed), "a listed review has no row"
    return listed


ALL_CHECKS = {"d{pk}-checks": ["name", "birth_date", "photo", "valid"]}


def approve_data(document: Document, **extra: Any) -> dict[str, Any]:
    prefix = f"d{document.pk}"
    return {
        f"{prefix}-decision": "approve",
        f"{prefix}-checks": documents_checks(document),
        f"{prefix}-issuing_country": "GB",
        f"{prefix}-expires_on": NEXT_YEAR.isoformat(),
        f"{prefix}-number": "P1234567",
        **{f"{prefix}-{k}": v for k, v in extra.items()},
    }


def documents_checks(document: Document) -> list[str]:
    from apps.kyc.admin.review_page import checks_for

    return checks_for(document.type)


def decide_url(document: Document) -> str:
    return f"{QUEUE}{document.review_id}/documents/{document.pk}/decide/"


# --- the queue's scope --------------------------------------------------------------------------------------


def test_an_officer_sees_only_the_reviews_assigned_to_them_or_their_team_and_a_lead_sees_all():
    mine, theirs, teams = (upload(PlayerFactory(kyc_level=0)).review for _ in range(3))
    me, other = officer(), officer()
    team = Group.objects.create(name="KYC team North")
    me.groups.add(team)
    assigned(mine, me)
    assigned(theirs, other)
    reviews.review_assign(actor=lead(), review=teams, team=team)

    assert shown(verified_client(me).get(QUEUE)) == sorted(
        [mine.pk, teams.pk], key=lambda pk: (Review.objects.get(pk=pk).due_at, pk)
    )
    assert shown(verified_client(other).get(QUEUE)) == [theirs.pk]
    assert set(shown(verified_client(lead()).get(QUEUE))) == {mine.pk, theirs.pk, teams.pk}
    assert set(shown(verified_client(StaffUserFactory(roles=[roles.ADMINISTRATOR])).get(QUEUE))) == {
        mine.pk,
        theirs.pk,
        teams.pk,
    }
    client = verified_client(me)
    assert client.get(f"{QUEUE}{mine.pk}/change/").status_code == 200
    assert client.get(f"{QUEUE}{theirs.pk}/change/").status_code == 404  # never a 403 that confirms it exists


@pytest.mark.parametrize("role", [roles.SUPPORT_AGENT, roles.AML_ANALYST, roles.CRM_MANAGER, roles.FINANCE_OFFICER])
def test_everyone_else_sees_nothing_of_the_queue_not_even_the_menu(role: str):
    review = upload(PlayerFactory(kyc_level=0)).review
    client = verified_client(StaffUserFactory(roles=[role]))
    assert client.get(QUEUE).status_code == 403
    assert client.get(f"{QUEUE}{review.pk}/change/").status_code in (403, 404)
    assert b"KYC review queue" not in client.get("/admin/").content


def test_the_menu_shows_the_queue_to_an_officer():
    assert b"KYC review queue" in verified_client(officer()).get("/admin/").content


# --- decisions through the page ----------------------------------------------------------------------------------


def test_an_assigned_officer_approves_from_the_page_and_can_follows():
    player = PlayerFactory(kyc_level=0)  # GB: level 1 before deposit or play
    Requirement.objects.create(
        player=player, level=1, trigger="registration", due_at=timezone.now(), restricts=["deposit", "bet"]
    )
    passport = upload(player)
    me = officer()
    assigned(passport.review, me)
    assert not can(player, "deposit", ask_registers=False).allowed
    client = verified_client(me)
    page = client.get(f"{QUEUE}{passport.review_id}/change/")
    assert page.status_code == 200 and b"kyc-preview" in page.content and b"What the player declared" in page.content

    response = client.post(decide_url(passport), approve_data(passport))
    assert response.status_code == 302, response.content[:500]
    passport.refresh_from_db()
    assert passport.state == "approved"
    assert can(player, "deposit", ask_registers=False).allowed
    assert Review.objects.get(pk=passport.review_id).state == "closed"


def test_the_check_list_is_enforced_on_the_server():
    passport = upload(PlayerFactory(kyc_level=0))
    me = officer()
    assigned(passport.review, me)
    data = approve_data(passport)
    data[f"d{passport.pk}-checks"] = ["name", "valid"]  # no birth date, no photo
    response = verified_client(me).post(decide_url(passport), data)
    assert response.status_code == 200
    assert "Tick every check before approving" in response.content.decode()
    assert Document.objects.get(pk=passport.pk).state == "pending"


def test_an_officer_not_assigned_cannot_decide_even_by_posting():
    passport = upload(PlayerFactory(kyc_level=0))
    outsider = officer()
    response = verified_client(outsider).post(decide_url(passport), approve_data(passport))
    assert response.status_code == 404
    assert Document.objects.get(pk=passport.pk).state == "pending"


def test_a_rejection_needs_its_reason_and_a_revision_its_message_with_clear_words():
    player = PlayerFactory(kyc_level=0)
    passport, bill = upload(player), upload(player, "utility_bill", files.pdf())
    me = officer()
    assigned(passport.review, me)
    client = verified_client(me)
    response = client.post(decide_url(passport), {f"d{passport.pk}-decision": "reject"})
    assert response.status_code == 200 and "Choose the reason for the rejection" in response.content.decode()
    response = client.post(decide_url(bill), {f"d{bill.pk}-decision": "request_revision"})
    assert "Write what the player must send again" in response.content.decode()

    client.post(
        decide_url(passport), {f"d{passport.pk}-decision": "reject", f"d{passport.pk}-reason_code": "unreadable"}
    )
    client.post(
        decide_url(bill), {f"d{bill.pk}-decision": "request_revision", f"d{bill.pk}-message": "All four corners."}
    )
    assert Document.objects.get(pk=passport.pk).rejection_reason == "unreadable"
    assert Document.objects.get(pk=bill.pk).state == "revision_requested"


def test_an_expired_reading_is_refused_with_the_service_code_explained():
    passport = upload(PlayerFactory(kyc_level=0))
    me = officer()
    assigned(passport.review, me)
    response = verified_client(me).post(
        decide_url(passport), approve_data(passport, expires_on=(date.today() - timedelta(days=1)).isoformat())
    )
    assert response.status_code == 200
    assert "The document has expired: reject it" in response.content.decode()


def test_level_3_waits_for_a_second_officer_who_decides_on_the_page():
    player = PlayerFactory(kyc_level=0)
    passport, bill = upload(player), upload(player, "utility_bill", files.pdf())
    sof = upload(player, "source_of_funds", files.pdf())
    maker = officer()
    assigned(passport.review, maker)
    client = verified_client(maker)
    for document in (passport, bill, sof):
        client.post(decide_url(document), approve_data(document))
    page = client.get(f"{QUEUE}{sof.review_id}/change/").content.decode()
    assert "Waiting for a second officer" in page
    approval = Approval.objects.get(kind="kyc.level_3", state="pending")

    checker = lead()
    checker_page = verified_client(checker).get(f"{QUEUE}{sof.review_id}/change/").content.decode()
    assert "Approve level 3 (second officer)" in checker_page
    response = client.post(f"{QUEUE}{sof.review_id}/second/{approval.pk}/", {"approve": "1"})
    assert response.status_code in (302, 404)  # the maker may not check
    assert Document.objects.get(pk=sof.pk).state == "pending"
    verified_client(checker).post(f"{QUEUE}{sof.review_id}/second/{approval.pk}/", {"approve": "1"})
    assert Document.objects.get(pk=sof.pk).state == "approved"
    assert player.kyc.__class__.objects.get(player=player).level == 3


# --- the file view -----------------------------------------------------------------------------------------------


def test_the_file_view_refuses_an_outsider_and_audits_every_viewing():
    passport = upload(PlayerFactory(kyc_level=0))
    me, outsider = officer(), officer()
    assigned(passport.review, me)
    url = f"{QUEUE}documents/{passport.pk}/file/"
    assert verified_client(outsider).get(url).status_code == 404
    assert verified_client(StaffUserFactory(roles=[roles.ADMINISTRATOR])).get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="kyc.document_viewed").exists()

    client = verified_client(me)
    preview = client.get(url)
    assert preview.status_code == 200 and preview["Content-Type"] == "image/png"
    assert preview.content.startswith(b"\x89PNG") and "no-store" in preview["Cache-Control"]
    original = client.get(url + "?as=original")
    assert original["Content-Type"] == "image/jpeg" and original["Content-Disposition"].startswith("attachment")
    viewed = list(AuditEvent.objects.filter(action="kyc.document_viewed").order_by("id"))
    assert [e.data["as"] for e in viewed] == ["preview", "original"]
    assert viewed[0].actor_id == str(me.pk) and viewed[0].data["document"] == passport.pk


def test_a_pdf_preview_is_its_first_page_as_png():
    bill = upload(PlayerFactory(kyc_level=0), "utility_bill", files.pdf())
    response = verified_client(lead()).get(f"{QUEUE}documents/{bill.pk}/file/")
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")


# --- assignment ------------------------------------------------------------------------------------------------


def test_bulk_assign_grants_the_assignee_and_takes_it_back_on_reassignment():
    first, second = upload(PlayerFactory(kyc_level=0)), upload(PlayerFactory(kyc_level=0))
    a, b = officer(), officer()
    client = verified_client(lead())
    response = client.post(
        QUEUE,
        {"action": "assign", "_selected_action": [first.review_id, second.review_id], "assignee": a.pk, "team": ""},
    )
    assert response.status_code == 302
    assert set(Review.objects.filter(assignee=a).values_list("pk", flat=True)) == {first.review_id, second.review_id}
    assert reviews.can_act(type(a).objects.get(pk=a.pk), "kyc.decide_review", first.review)
    assert AuditEvent.objects.filter(action="kyc.review_assigned").count() == 2

    reviews.review_assign(actor=lead(), review=first.review, assignee=b)
    assert not reviews.can_act(type(a).objects.get(pk=a.pk), "kyc.decide_review", first.review)
    assert reviews.can_act(type(b).objects.get(pk=b.pk), "kyc.decide_review", first.review)


def test_an_officer_may_not_assign_and_nobody_is_assigned_who_cannot_review():
    review = upload(PlayerFactory(kyc_level=0)).review
    with pytest.raises(ReviewAssignNotPermitted) as refused:
        reviews.review_assign(actor=officer(), review=review, assignee=officer())
    assert refused.value.code == "review_assign_not_permitted"
    with pytest.raises(ReviewAssigneeInvalid) as invalid:
        reviews.review_assign(actor=lead(), review=review, assignee=StaffUserFactory(roles=[roles.SUPPORT_AGENT]))
    assert invalid.value.code == "review_assignee_invalid"
    me = officer()
    assigned(review, me)
    response = verified_client(me).post(QUEUE, {"action": "assign", "_selected_action": [review.pk], "assignee": me.pk})
    assert Review.objects.get(pk=review.pk).assignee_id == me.pk  # unchanged: the action is not offered
    assert response.status_code in (200, 302)


def test_next_review_takes_the_oldest_due_free_one_and_never_one_held_by_another():
    now = timezone.now()
    older, newer, held = (upload(PlayerFactory(kyc_level=0)).review for _ in range(3))
    Review.objects.filter(pk=older.pk).update(due_at=now + timedelta(hours=1))
    Review.objects.filter(pk=newer.pk).update(due_at=now + timedelta(hours=5))
    Review.objects.filter(pk=held.pk).update(due_at=now - timedelta(hours=1))
    assigned(held, officer())
    me = officer()
    client = verified_client(me)
    response = client.post(f"{QUEUE}next/")
    assert response.status_code == 302 and response["Location"].endswith(f"/{older.pk}/change/")
    assert Review.objects.get(pk=older.pk).assignee_id == me.pk
    # pressing again returns the same review: it is the member's own now
    assert client.post(f"{QUEUE}next/")["Location"].endswith(f"/{older.pk}/change/")
    assert reviews.review_next(actor=officer()).pk == newer.pk
    assert verified_client(StaffUserFactory(roles=[roles.ADMINISTRATOR])).post(f"{QUEUE}next/").status_code == 403


# --- the player page ---------------------------------------------------------------------------------------------


def test_the_player_page_shows_the_kyc_section_and_duplicates_on_both_accounts():
    one, two = PlayerFactory(kyc_level=0), PlayerFactory(kyc_level=0)
    upload(one, number="X99887766")
    upload(two, number="X99887766")
    client = verified_client(officer())
    for player, other in ((one, two), (two, one)):  # the page loads the section after it (deferred)
        page = client.get(f"/admin/players/player/{player.pk}/section/kyc/?partial=1").content.decode()
        assert 'id="kyc"' in page and "Duplicate document" in page and other.external_id in page
    support = verified_client(StaffUserFactory(roles=[roles.SUPPORT_AGENT]))
    assert support.get(f"/admin/players/player/{one.pk}/section/kyc/?partial=1").status_code == 204


def test_an_officer_uploads_a_document_for_the_player_from_the_admin():
    player = PlayerFactory(kyc_level=0)
    me = officer()
    response = verified_client(me).post(
        f"{QUEUE}players/{player.pk}/upload/",
        {
            "document_type": "utility_bill",
            "file": SimpleUploadedFile("../../etc/bill.pdf", files.pdf(), content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    document = Document.objects.get(player=player)
    assert (document.source, document.uploaded_by_id, document.file_kind) == ("admin", me.pk, "pdf")
    support = verified_client(StaffUserFactory(roles=[roles.SUPPORT_AGENT]))
    refused = support.post(
        f"{QUEUE}players/{player.pk}/upload/",
        {"document_type": "utility_bill", "file": SimpleUploadedFile("b.pdf", files.pdf())},
    )
    assert refused.status_code == 403 and Document.objects.filter(player=player).count() == 1


def test_an_upload_refused_by_intake_says_why_and_keeps_nothing():
    player = PlayerFactory(kyc_level=0)
    response = verified_client(officer()).post(
        f"{QUEUE}players/{player.pk}/upload/",
        {"document_type": "passport", "file": SimpleUploadedFile("a.jpg", b"MZ\x90\x00 not an image")},
        follow=True,
    )
    assert "nothing was uploaded" in response.content.decode()
    assert not Document.objects.filter(player=player).exists()


# --- 100,000-safe queries ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?sla=overdue", "?assignee=unassigned&level=1", "?document=passport&age=1"])
def test_the_queue_never_counts_everything_nor_runs_distinct(query: str):
    for _ in range(3):
        upload(PlayerFactory(kyc_level=0))
    client = verified_client(lead())
    with CaptureQueriesContext(connection) as captured:
        assert client.get(QUEUE + query).status_code == 200
    sql = [q["sql"].upper() for q in captured.captured_queries]
    counts = [s for s in sql if "COUNT(" in s and "KYC_REVIEW" in s]
    assert all("LIMIT" in s for s in counts), counts
    assert not [s for s in sql if re.search(r"\bDISTINCT\b", s) and "KYC_REVIEW" in s]
    ordered = [s for s in sql if s.startswith("SELECT") and '"KYC_REVIEW"."DUE_AT"' in s and "ORDER BY" in s]
    assert ordered and 'ORDER BY "KYC_REVIEW"."DUE_AT" ASC, "KYC_REVIEW"."ID" ASC' in ordered[-1]


def test_the_start_page_shows_officers_their_reviews_and_leads_the_overdue_ones():
    review = upload(PlayerFactory(kyc_level=0)).review
    Review.objects.filter(pk=review.pk).update(due_at=timezone.now() - timedelta(hours=1))
    me = officer()
    assigned(review, me)
    mine = verified_client(me).get("/admin/").content.decode()
    assert "KYC reviews waiting" in mine and "Overdue KYC reviews" not in mine
    theirs = verified_client(lead()).get("/admin/").content.decode()
    assert "Overdue KYC reviews" in theirs


def test_a_closed_review_is_not_assigned_again():
    passport = upload(PlayerFactory(kyc_level=0))
    boss = lead()
    documents.document_decide(actor=boss, document=passport, decision="reject", reason_code="unreadable")
    with pytest.raises(ReviewClosed) as closed:
        reviews.review_assign(actor=boss, review=passport.review, assignee=officer())
    assert closed.value.code == "review_closed"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("role_groups", "geo_rules")
def test_two_officers_pressing_next_at_once_get_two_different_reviews():
    """While one officer's Next review holds the oldest-due review's row lock, the other's skips it (SKIP LOCKED)
    instead of waiting for it and then taking the same review."""
    import threading

    from django.db import connections, transaction

    older, newer = (upload(PlayerFactory(kyc_level=0)).review for _ in range(2))
    Review.objects.filter(pk=older.pk).update(due_at=timezone.now() + timedelta(hours=1))
    Review.objects.filter(pk=newer.pk).update(due_at=timezone.now() + timedelta(hours=2))
    locked, release = threading.Event(), threading.Event()

    def first_officer_holds_the_oldest() -> None:
        try:
            with transaction.atomic():
                Review.objects.select_for_update().get(pk=older.pk)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=first_officer_holds_the_oldest)
    holder.start()
    try:
        assert locked.wait(30)
        taken = reviews.review_next(actor=officer())
    finally:
        release.set()
        holder.join(30)
    assert taken is not None and taken.pk == newer.pk
    assert Review.objects.get(pk=older.pk).assignee_id is None


def test_the_queue_rows_are_the_markup_unfold_writes():
    """apps.kyc.admin.rows builds the rows once per column; every cell, checkbox included, is unfold's own."""
    from django.contrib import admin
    from django.test import RequestFactory
    from unfold.admin import checkbox as unfold_checkbox
    from unfold.templatetags import unfold_list

    from apps.kyc.admin import rows

    for i in range(3):
        upload(PlayerFactory(kyc_level=0, last_name=f"<b>O'Neill {i}</b>"))
    request = RequestFactory().get(QUEUE, {"assignee": "unassigned"})
    request.user = lead()
    cl = admin.site._registry[Review].get_changelist_instance(request)
    cl.formset = None
    assert rows.supported(cl) and len(cl.result_list) == 3
    headers = list(unfold_list.result_headers(cl))
    cols = rows.columns(cl, headers)
    links = rows.changelist.ChangeLinks(cl)
    empty = cl.model_admin.get_empty_value_display()
    for review in cl.result_list:
        theirs = "".join(unfold_list.items_for_result(cl, review, None))
        assert rows.changelist.row_cells(cl, review, cols, empty, links) == theirs
        assert f'name="_selected_action" value="{review.pk}"' in theirs and "&lt;b&gt;O&#x27;Neill" in theirs
        assert cl.model_admin.action_checkbox(review) == unfold_checkbox.render("_selected_action", str(review.pk))


def test_the_second_officer_may_decide_level_3_in_the_approvals_inbox_too():
    player = PlayerFactory(kyc_level=0)
    passport, bill = upload(player), upload(player, "utility_bill", files.pdf())
    sof = upload(player, "source_of_funds", files.pdf())
    maker = officer()
    assigned(passport.review, maker)
    client = verified_client(maker)
    for document in (passport, bill, sof):
        client.post(decide_url(document), approve_data(document))
    approval = Approval.objects.get(kind="kyc.level_3", state="pending")
    checker = verified_client(lead())
    inbox = checker.get("/admin/approvals/approval/")
    assert approval.pk in [a.pk for a in inbox.context["cl"].result_list]
    # the request links to the document's review page (a document has no admin page of its own)
    assert f'href="/admin/kyc/review/{sof.review_id}/change/"' in inbox.content.decode()
    response = checker.post(f"/admin/approvals/approval/{approval.pk}/change/", {"_decision": "approve"})
    assert response.status_code == 302
    assert Document.objects.get(pk=sof.pk).state == "approved"
    assert player.kyc.__class__.objects.get(player=player).level == 3
