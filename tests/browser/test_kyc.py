"""A KYC Officer's day in a real browser (issue 14): signed in with a TOTP code, they find their review waiting on
the start page, open the queue and the review, see the passport's and the bill's previews (served by the audited
file view) beside what the player declared, tick the check list and approve both; the player's ``can()`` changes
(deposits open) and the player page's KYC section says level 2. Screenshots var/screenshots/kyc-*.png."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.kyc import demo_documents as drawn
from apps.kyc.choices import Source
from apps.kyc.documents import document_upload
from apps.kyc.levels import requirement_raise
from apps.kyc.models import Document, KycProfile
from apps.kyc.reviews import review_assign
from apps.players.eligibility import can
from apps.staff import roles
from tests.browser.test_accessibility import problems_on
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("role_groups", "geo_rules"),
]


@pytest.fixture
def passport_review(settings, tmp_path):
    settings.KYC_FILES_ROOT = str(tmp_path / "kyc-files")
    player = PlayerFactory(
        kyc_level=0,
        first_name="Ada",
        last_name="Byron",
        date_of_birth=date(1990, 12, 10),
        address_line="12 St James's Square",
        city="London",
        postal_code="SW1Y 4JH",
        country="GB",
        currency="GBP",
    )
    requirement_raise(
        actor=None,
        player=player,
        level=2,
        trigger="staff",
        due_at=timezone.now() + timedelta(days=2),
        restricts=["deposit", "withdraw"],
        reason="verify before deposits",
    )
    platform, expires = SystemActor("platform"), date.today() + timedelta(days=900)
    passport = drawn.passport_jpeg(
        first_name="Ada",
        last_name="Byron",
        born=player.date_of_birth,
        country="GBR",
        number="533380006",
        expires=expires,
    )
    document_upload(
        actor=platform,
        player=player,
        document_type="passport",
        data=passport,
        source=Source.API,
        issuing_country="GB",
        expires_on=expires,
        number="533380006",
    )
    bill = drawn.utility_bill_pdf(
        name="Ada Byron", address=player.address_line, city="London", postal_code="SW1Y 4JH", issued=date.today()
    )
    document_upload(actor=platform, player=player, document_type="utility_bill", data=bill, source=Source.API)
    return player


def test_a_kyc_officer_clears_a_review_from_the_start_page_and_can_changes(staff_browser, passport_review):
    player = passport_review
    officer = StaffUserFactory(roles=[roles.KYC_OFFICER], first_name="Kim", last_name="Officer")
    review = Document.objects.filter(player=player).first().review  # type: ignore[union-attr]
    review_assign(actor=StaffUserFactory(roles=[roles.MLRO]), review=review, assignee=officer)
    assert not can(player, "deposit", ask_registers=False).allowed

    page = staff_browser.login(officer)  # password and a TOTP code from the device
    item = page.locator("#work li[data-queue='kyc.reviews_waiting']")
    assert item.get_attribute("data-count") == "1"
    page.shot("kyc-0-start-page")
    item.locator("a").click()
    page.page.wait_for_selector("#changelist")
    row = page.locator("#result_list tbody tr").filter(has_text="Ada Byron")
    assert "Passport" in row.inner_text() and "Utility bill" in row.inner_text() and "Due" in row.inner_text()
    page.shot("kyc-1-queue")
    assert problems_on(page.page) == []

    row.locator("a").first.click()
    page.page.wait_for_selector("#kyc-review")
    previews = page.locator("img.kyc-preview")
    assert previews.count() == 2
    for i in range(2):
        previews.nth(i).scroll_into_view_if_needed()
        page.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=previews.nth(i).element_handle())
    assert page.inner_text("#kyc-declared-name") == "Ada Byron"
    page.shot("kyc-2-review")
    assert problems_on(page.page) == []  # labels, alt texts, contrast, field borders (tests/browser/a11y.js)

    # approving without the ticks is refused on the server, with the words
    passport = Document.objects.get(player=player, type="passport")
    card = page.locator(f"#kyc-document-{passport.pk}")
    with page.page.expect_navigation():
        card.locator("button.kyc-approve").click()
    assert "Tick every check before approving" in page.inner_text(f"#kyc-document-{passport.pk}")
    page.shot("kyc-3-checklist-refused")

    for document in Document.objects.filter(player=player).order_by("id"):
        card = page.locator(f"#kyc-document-{document.pk}")
        for box in card.locator("input[type=checkbox]").all():
            box.check()
        with page.page.expect_navigation():
            card.locator("button.kyc-approve").click()
    page.page.wait_for_selector("#kyc-nothing-pending")
    assert "The player's verification level is now 2" in page.inner_text("body")
    page.shot("kyc-4-approved")

    assert KycProfile.objects.get(player=player).level == 2
    assert can(player, "deposit", ask_registers=False).allowed
    assert AuditEvent.objects.filter(action="kyc.document_viewed", actor_id=str(officer.pk)).count() >= 2

    page.goto(f"/admin/players/player/{player.pk}/change/")
    assert "Level 2" in page.inner_text("#kyc")
    page.locator("#kyc").scroll_into_view_if_needed()
    page.shot("kyc-5-player-page")
    assert [p for p in problems_on(page.page) if "kyc" in p.lower()] == []  # the KYC section's own fields


def test_a_kyc_lead_sees_the_sla_badges_and_assigns_two_reviews_to_an_officer(staff_browser, settings, tmp_path):
    settings.KYC_FILES_ROOT = str(tmp_path / "kyc-files")
    from apps.kyc.models import Review

    now, platform = timezone.now(), SystemActor("platform")
    names = [("Grace", "Hopper"), ("Alan", "Turing"), ("Mary", "Somerville")]
    opened = []
    for i, (first, last) in enumerate(names):
        player = PlayerFactory(kyc_level=0, first_name=first, last_name=last, country="GB", currency="GBP")
        expires = date.today() + timedelta(days=900)
        image = drawn.passport_jpeg(
            first_name=first,
            last_name=last,
            born=player.date_of_birth,
            country="GBR",
            number=f"5{i}3380006",
            expires=expires,
        )
        document = document_upload(
            actor=platform,
            player=player,
            document_type="passport",
            data=image,
            source=Source.API,
            issuing_country="GB",
            expires_on=expires,
            number=f"5{i}3380006",
        )
        opened.append(document.review)
    # overdue, at risk (2 h of 24 left), due
    for review, (age, left) in zip(opened, ((30, -6), (22, 2), (1, 23)), strict=True):
        Review.objects.filter(pk=review.pk).update(
            created_at=now - timedelta(hours=age), due_at=now + timedelta(hours=left)
        )
    officer = StaffUserFactory(roles=[roles.KYC_OFFICER], first_name="Kim", last_name="Officer")
    lead = staff_browser.login(StaffUserFactory(roles=[roles.MLRO], first_name="Lee", last_name="Lead"))
    item = lead.locator("#work li[data-queue='kyc.reviews_overdue']")
    assert item.get_attribute("data-count") == "1"
    lead.goto("/admin/kyc/review/")
    badges = [b.inner_text() for b in lead.locator("#result_list .kyc-sla").all()]
    assert badges == ["Overdue", "At risk", "Due"]
    lead.shot("kyc-6-lead-queue")

    for review in opened[:2]:
        lead.page.check(f"input.action-select[value='{review.pk}']")
    lead.select_option("select[name=action]", "assign")
    lead.select_option("select[name=assignee]", str(officer.pk))
    lead.shot("kyc-7-lead-assigning")
    with lead.page.expect_navigation():
        lead.click("#changelist-actions button[type=submit]")
    assert "2 reviews assigned to Kim Officer" in lead.inner_text("body")
    lead.shot("kyc-8-lead-assigned")
    assert set(Review.objects.filter(assignee=officer).values_list("pk", flat=True)) == {r.pk for r in opened[:2]}
