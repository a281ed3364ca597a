"""KYC status: levels as they stood at the period's end (a decision after it undone), requirements overdue then,
and review turnaround percentiles, on documents and requirements made through the KYC services, with a review
closed just after local midnight in Berlin."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission

from apps.audit.services import SystemActor
from apps.kyc import documents, levels
from apps.kyc.choices import Source
from apps.kyc.models import KycProfile
from apps.reports.context import RunContext
from apps.reports.definitions.kyc_status import KycStatus
from tests.factories import PlayerFactory, StaffUserFactory
from tests.kyc import documents as files

pytestmark = pytest.mark.django_db

PLATFORM = SystemActor("platform")
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
NEXT_YEAR = date.today() + timedelta(days=365)


def at(*args: int):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


@pytest.fixture(autouse=True)
def kyc_files(settings, tmp_path):
    settings.KYC_STORAGE = "filesystem"
    settings.KYC_FILES_ROOT = str(tmp_path / "kyc-files")


def upload(player, document_type="passport", data=None):
    return documents.document_upload(
        actor=PLATFORM, player=player, document_type=document_type, data=data or files.jpeg(), source=Source.API
    )


def approve(officer, document):
    extra = {"issuing_country": "GB", "expires_on": NEXT_YEAR, "number": f"N{document.pk}"}
    documents.document_decide(
        actor=officer, document=document, decision="approve", **(extra if document.type == "passport" else {})
    )


def build_march(kyc_officer):
    officer = StaffUserFactory()
    officer.user_permissions.add(Permission.objects.get(content_type__app_label="kyc", codename="decide_review"))
    officer = type(officer).objects.get(pk=officer.pk)
    with at(2026, 2, 1, 9):
        ann = PlayerFactory(kyc_level=0)
        bea = PlayerFactory(kyc_level=0)
        dirk = PlayerFactory(country="DE", currency="EUR", kyc_level=0)
        PlayerFactory(kyc_level=2)  # verified before any decision was recorded: today's level is the answer
    with at(2026, 3, 2, 10):
        passport = upload(ann)
    with at(2026, 3, 2, 16):
        approve(officer, passport)  # 6 hours
    with at(2026, 3, 3, 10):
        levels.requirement_ask(
            actor=kyc_officer,
            player=ann,
            level=2,
            reason="proof of address",
            due_at=datetime(2026, 3, 25, 10, tzinfo=UTC),
            compliance=False,
        )
    with at(2026, 3, 10, 9):
        passport = upload(bea)
    with at(2026, 3, 11, 8):
        approve(officer, passport)  # 23 hours
    with at(2026, 3, 12, 10):
        levels.requirement_ask(
            actor=kyc_officer,
            player=bea,
            level=2,
            reason="proof of address",
            due_at=datetime(2026, 3, 20, 10, tzinfo=UTC),
            compliance=False,
        )
        levels.requirement_ask(  # not yet due at the end
            actor=kyc_officer,
            player=dirk,
            level=1,
            reason="identity",
            due_at=datetime(2026, 4, 10, 10, tzinfo=UTC),
            compliance=True,
        )
    with at(2026, 3, 31, 20):
        passport = upload(dirk)
    with at(2026, 3, 31, 22, 30):  # 00:30 on 1 April in Berlin: April's, and Dirk was level 0 at March's end
        approve(officer, passport)
    with at(2026, 4, 5, 10):
        approve(officer, upload(ann, "utility_bill", files.pdf()))  # level 2 now; 1 at March's end
    with at(2026, 4, 10, 9):
        PlayerFactory(kyc_level=0)  # registered after the end
    assert KycProfile.objects.get(player=ann).level == 2
    return {"ann": ann, "bea": bea, "dirk": dirk}


@pytest.fixture
def march(kyc_officer):
    return build_march(kyc_officer=kyc_officer)


def run(params=MARCH, user=None):
    report = KycStatus()
    values, _, errors = report.clean(params, today=date(2026, 12, 7))
    assert errors == {} and report.check(values, user) == {}
    return {table.name: list(table.rows) for table in report.tables(RunContext(user=user), values)}


def test_levels_are_as_they_stood_at_the_periods_end(march):
    assert run()["levels"] == [("DE", 0, 1), ("GB", 1, 2), ("GB", 2, 1)]


def test_requirements_overdue_at_the_end_include_those_met_only_later(march):
    # Bea's (due 20 March 10:00, open) and Ann's (due 25 March 10:00, met on 5 April); London's end is
    # 31 March 23:00 UTC: Bea's was 11 days and 13 hours overdue
    assert run()["overdue"] == [("GB", 2, "staff", 2, 2, 11)]
    # at April's end only Bea's is left (Dirk's was met by his passport before it was due)
    assert run({"start": "2026-04-01", "end": "2026-04-30"})["overdue"] == [("GB", 2, "staff", 1, 1, 41)]


def test_review_turnaround_is_the_median_and_90th_percentile_of_the_reviews_closed_in_the_period(march):
    # 6 h and 23 h: median 14.5 h, 90th percentile 6 + 0.9 x 17 = 21.3 h; both before their 24 h due time
    assert run()["turnaround"] == [("GB", 1, 2, Decimal("14.5"), Decimal("21.3"), 2)]
    april = run({"start": "2026-04-01", "end": "2026-04-30"})["turnaround"]
    assert april == [("DE", 1, 1, Decimal("2.5"), Decimal("2.5"), 1), ("GB", 2, 1, Decimal("0.0"), Decimal("0.0"), 1)]


def test_a_jurisdiction_keeps_only_its_players(march):
    tables = run({**MARCH, "jurisdiction": "DE"})
    assert tables == {"levels": [("DE", 0, 1)], "overdue": [], "turnaround": []}


def test_the_same_data_gives_the_same_rows_twice(march):
    assert run() == run()


def test_it_refuses_an_end_before_the_start():
    report = KycStatus()
    values, _, errors = report.clean({"start": "2026-03-02", "end": "2026-03-01"}, today=date(2026, 12, 7))
    assert errors == {} and report.check(values, None) == {"end": "The end is before the start."}


def test_kyc_officers_and_aml_analysts_may_run_it_crm_managers_may_not(kyc_officer, aml_analyst, crm_manager):
    assert KycStatus.permission == "reports.run_compliance"
    assert kyc_officer.has_perm(KycStatus.permission) and aml_analyst.has_perm(KycStatus.permission)
    assert not crm_manager.has_perm(KycStatus.permission)
