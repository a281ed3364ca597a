"""A real OFAC hit confirmed and a SAR filed, in a real browser (issue 17): a player registered under the name and
birth date of a person on OFAC's SDN list; the MLRO imports (the first 400 rows of) the real sdn.csv on the
watchlist import page, which starts the re-screen of the player base; the re-screen page shows its progress bar;
the AML Analyst finds "Screening hits to review" on the start page, reads the entry beside the player and confirms
it (a sanctions case opens, the account is suspended, KYC level 3 is required); the MLRO drafts a SAR from that
case and submits it; a second MLRO approves it in the Approvals inbox; the worker's export validates against the
real goAML 5.0.1 schema; the MLRO downloads the XML (validated here again, with xmlschema.XMLSchema11) and
records the filing. Screenshots var/screenshots/sanctions-*.png."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path

import pytest
import xmlschema
from django.apps import apps as django_apps
from django.utils import timezone

from apps.compliance.choices import CaseType
from apps.compliance.models import Case
from apps.core.jobs import job_run_slice
from apps.core.models import Job, JobStatus
from apps.kyc.models import Requirement
from apps.players.choices import PlayerStatus
from apps.sars.choices import SarState
from apps.sars.models import Sar
from apps.sars.tasks import sar_export_task
from apps.screening import rescreen_job
from apps.screening.index import clear_cache
from apps.screening.models import HitState, ScreeningHit
from apps.staff import roles
from tests.browser.test_accessibility import problems_on
from tests.factories import PlayerFactory, StaffUserFactory
from tests.sars.conftest import SCHEMA, goaml_settings, passport  # noqa: F401  (goaml_settings: autouse)
from tests.screening.conftest import OFAC_SDN

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("role_groups", "geo_rules"),
]
ROWS = 400  # the real file's first rows: entry 2676 (AL ZAWAHIRI, Dr. Ayman, DOB 19 Jun 1951) is one


@pytest.fixture
def world(tmp_path: Path):
    """The compliance inbox and SLA policies (an earlier transactional test flushed them), an empty screening
    index, the OFAC excerpt as an operator would upload it, and the listed person registered as a player."""
    importlib.import_module("apps.compliance.migrations.0002_defaults_and_roles").forwards(django_apps, None)
    clear_cache()
    excerpt = tmp_path / "sdn.csv"
    with open(OFAC_SDN, "rb") as source:
        excerpt.write_bytes(b"".join(line for _, line in zip(range(ROWS), source, strict=False)))
    assert b'2676,"AL ZAWAHIRI, Dr. Ayman"' in excerpt.read_bytes()
    player = PlayerFactory(
        first_name="Ayman",
        last_name="Al-Zawahiri",
        date_of_birth=date(1951, 6, 19),
        country="GB",
        currency="GBP",
        phone="+447911123456",
        address_line="12 Baker Street",
        city="London",
        postal_code="NW1 6XE",
    )
    passport(player, country="EG")
    PlayerFactory.create_batch(5, country="GB", currency="GBP")
    yield excerpt, player
    clear_cache()


def run_rescreen() -> Job:
    """What the worker does with the job the import started: its slices, until it is done."""
    job = Job.objects.get(kind=rescreen_job.KIND)
    for _ in range(100):
        job = job_run_slice(job.pk)
        if job.status != JobStatus.RUNNING:
            return job
    raise AssertionError("the re-screen did not finish")


def test_an_ofac_hit_is_confirmed_and_the_mlro_files_a_sar(staff_browser, world):
    excerpt, player = world
    mlro_user = StaffUserFactory(roles=[roles.MLRO], first_name="Mel", last_name="Lead")
    analyst_user = StaffUserFactory(roles=[roles.AML_ANALYST], first_name="Ana", last_name="Lyst")

    # the MLRO imports the list; the import starts the re-screen, whose page shows the progress bar
    mlro = staff_browser.login(mlro_user)
    mlro.goto("/admin/screening/watchlist/import/")
    mlro.page.select_option("#screening-import-form select[name=fmt]", "ofac_sdn")
    mlro.page.set_input_files("#screening-import-form input[name=file]", str(excerpt))
    mlro.shot("sanctions-0-import")
    mlro.check()
    assert problems_on(mlro.page) == []
    with mlro.page.expect_navigation():
        mlro.click("#screening-import-form button[type=submit]")
    assert "entries" in mlro.inner_text("body") and "Nothing was imported" not in mlro.inner_text("body")
    mlro.check()
    mlro.goto("/admin/screening/watchlist/rescreen/")
    progress = mlro.locator("#screening-rescreen-progress")
    assert progress.is_visible() and progress.get_attribute("data-percent") == "0.0"
    mlro.shot("sanctions-1-rescreen-running")
    assert run_rescreen().status == JobStatus.DONE
    mlro.goto("/admin/screening/watchlist/rescreen/")
    assert mlro.locator("#screening-rescreen-idle").is_visible()
    hit = ScreeningHit.objects.get(player=player)
    assert hit.state == HitState.OPEN and hit.entry_id == "2676"

    # the analyst finds the hit on the start page, reads it and confirms it
    analyst = staff_browser.login(analyst_user)
    item = analyst.locator("#work li[data-queue='screening.open_hits']")
    assert item.get_attribute("data-count") == "1"
    analyst.shot("sanctions-2-analyst-start-page")
    item.locator("a").click()
    analyst.page.wait_for_selector("#changelist")
    analyst.locator("#result_list tbody tr").filter(has_text="Al-Zawahiri").locator("a").first.click()
    analyst.page.wait_for_selector("#screening-hit")
    assert "AL ZAWAHIRI" in analyst.inner_text("#screening-hit-entry").upper()
    assert "the same date of birth" in analyst.inner_text("#screening-hit-evidence")
    analyst.shot("sanctions-3-hit")
    assert problems_on(analyst.page) == []
    analyst.fill("#screening-form-confirm textarea", "Same name, same birth date; the passport is Egyptian.")
    with analyst.page.expect_navigation():
        analyst.click("#screening-form-confirm button[type=submit]")
    assert "Hit confirmed" in analyst.inner_text("body")
    analyst.shot("sanctions-4-hit-confirmed")
    case = Case.objects.get(player=player, type=CaseType.SANCTIONS)
    player.refresh_from_db()
    assert player.status == PlayerStatus.SUSPENDED
    assert Requirement.objects.filter(player=player, level=3).exists()

    # the MLRO drafts a SAR from the sanctions case and submits it
    mlro.goto(f"/admin/compliance/case/{case.pk}/change/")
    mlro.locator(f"a[href='/admin/sars/sar/add/?case={case.pk}']").click()
    mlro.page.wait_for_selector("#sar-form-draft")
    mlro.page.select_option("#sar-report_code", "SAR")
    mlro.fill("#sar-reason", "The player is the person listed by OFAC (SDN entry 2676): same name and birth date.")
    mlro.fill("#sar-action", "Account suspended; funds frozen pending the FIU's answer.")
    mlro.fill("#sar-indicators", "-")
    mlro.fill("#sar-occupation", "Unknown")
    mlro.shot("sanctions-5-sar-draft")
    assert problems_on(mlro.page) == []
    with mlro.page.expect_navigation():
        mlro.click("#sar-form-draft button[type=submit]")
    mlro.page.wait_for_selector("#sar")
    sar = Sar.objects.get(case=case)
    assert sar.state == SarState.DRAFT
    mlro.fill("#sar-form-submit input[name=note]", "Confirmed OFAC hit, please approve today.")
    with mlro.page.expect_navigation():
        mlro.click("#sar-form-submit button[type=submit]")
    assert "second person" in mlro.inner_text("body")
    mlro.shot("sanctions-6-sar-submitted")

    # a second MLRO approves it; the worker exports it
    second = staff_browser.login(StaffUserFactory(roles=[roles.MLRO], first_name="Dee", last_name="Puty"))
    second.goto("/admin/approvals/approval/?kind=sars.sar_approve")
    second.locator("#result_list tbody tr td a, #result_list tbody tr th a").first.click()
    second.page.wait_for_selector("#approval-decision")
    with second.page.expect_navigation():
        second.click("#approval-decision button[value=approve]")
    assert sar_export_task(sar.pk)["valid"] is True
    sar.refresh_from_db()
    assert sar.state == SarState.READY

    # the MLRO downloads the XML (it validates) and records the filing
    mlro.goto(f"/admin/sars/sar/{sar.pk}/change/")
    with mlro.page.expect_download() as download:
        mlro.click("#sar-download")
    xml = Path(download.value.path()).read_text()
    xmlschema.XMLSchema11(str(SCHEMA)).validate(xml)
    assert "<report_code>SAR</report_code>" in xml and "Al-Zawahiri" in xml
    mlro.shot("sanctions-7-sar-ready")
    mlro.fill("#sar-form-file input[name=fiu_reference]", "FIU-2026-0042")
    mlro.fill("#sar-form-file input[name=filed_on]", timezone.localdate().isoformat())
    with mlro.page.expect_navigation():
        mlro.click("#sar-form-file button[type=submit]")
    sar.refresh_from_db()
    assert sar.state == SarState.FILED and sar.fiu_reference == "FIU-2026-0042"
    assert "FIU-2026-0042" in mlro.inner_text("#sar-filed")
    mlro.shot("sanctions-8-sar-filed")
