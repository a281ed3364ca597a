"""The screening screens: the hits and the hit page with its two decisions (through apps.screening.wiring), the
watchlists, snapshots and entries, the import, the re-screen progress and the batch screening upload; the wall
(no other role sees any of it, not even in the menu); hostile input never a 500."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.compliance.models import Case
from apps.core.models import Job, JobStatus
from apps.kyc.models import Requirement
from apps.screening import rescreen_job
from apps.screening.admin.display import evidence_words
from apps.screening.hits import screen_player
from apps.screening.imports import import_list
from apps.screening.models import HitState, ListSnapshot, ScreeningHit, WatchList
from apps.staff import roles
from tests.conftest import verified_client
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
PLATFORM = SystemActor("tests")
LIST = (
    b"id,name,aliases,date_of_birth,country,list,type\n"
    b"s1,Viktor Petrovich Orlov,Viktor Orloff,1961-03-04,RU,Test sanctions,individual\n"
    b"s2,Ivan Dragomirov,,1970,BG,Test sanctions,individual\n"
)
LIST_2 = LIST + b"s3,Olga Vasilyeva Sidorova,,1975-05-05,RU,Test sanctions,individual\n"
HITS = "/admin/screening/screeninghit/"
LISTS = "/admin/screening/watchlist/"
SNAPSHOTS = "/admin/screening/listsnapshot/"
ENTRIES = "/admin/screening/listentry/"
WALLED = (roles.SUPPORT_AGENT, roles.CRM_MANAGER, roles.FINANCE_OFFICER, roles.KYC_OFFICER, roles.ADMINISTRATOR)
SEES = (roles.AML_ANALYST, roles.MLRO)


@pytest.fixture
def listed() -> list[Any]:
    return import_list(fmt="csv", data=LIST, file_name="test.csv")


@pytest.fixture
def hit(listed: Any) -> ScreeningHit:
    player = PlayerFactory(first_name="Viktor", last_name="Orlov", date_of_birth=date(1961, 3, 4), country="RU")
    hits = screen_player(player, actor=PLATFORM)
    assert len(hits) == 1
    return hits[0]


def client_of(role: str) -> Any:
    return verified_client(StaffUserFactory(roles=[role]))  # type: ignore[arg-type]


def page_of(hit: ScreeningHit) -> str:
    return f"{HITS}{hit.pk}/change/"


def review_url(hit: ScreeningHit, decision: str) -> str:
    return reverse("admin:screening_screeninghit_review", args=[hit.pk, decision])


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def every_url(hit: ScreeningHit) -> list[str]:
    snapshot = ListSnapshot.objects.order_by("id").first()
    assert snapshot is not None
    return [
        HITS,
        page_of(hit),
        f"{HITS}{hit.pk}/history/",
        LISTS,
        f"{LISTS}{snapshot.watchlist_id}/change/",
        reverse("admin:screening_watchlist_import"),
        reverse("admin:screening_watchlist_rescreen"),
        reverse("admin:screening_watchlist_screen_file"),
        SNAPSHOTS,
        f"{SNAPSHOTS}{snapshot.pk}/change/",
        ENTRIES,
    ]


# --- the pages render for the compliance roles ----------------------------------------------------------------


@pytest.mark.parametrize("role", SEES)
def test_every_page_renders_for_the_compliance_roles(role, hit):
    client = client_of(role)
    for url in every_url(hit):
        if url == reverse("admin:screening_watchlist_import") and role != roles.MLRO:
            continue  # only the MLRO imports (test_an_analyst_may_not_import)
        response = client.get(url)
        assert response.status_code == 200, url
    listing = client.get(HITS).content.decode()
    assert "Viktor" in listing and "Orlov" in listing and f"/admin/players/player/{hit.player_id}/change/" in listing
    assert "open" in client.get(HITS).content.decode().lower()
    index = client.get("/admin/").content.decode()
    assert "/admin/screening/screeninghit/" in index


def test_the_hit_page_shows_the_player_beside_the_entry_and_the_evidence_in_words(hit):
    response = client_of(roles.AML_ANALYST).get(page_of(hit))
    page = response.content.decode()
    assert 'id="screening-hit-player"' in page and "1961-03-04" in page and "RU" in page
    assert "Viktor Petrovich Orlov" in page and "Viktor Orloff" in page  # the entry's name and its alias
    assert "the same date of birth" in page  # the evidence in words
    assert "Name score" in page
    assert 'id="screening-form-confirm"' in page and 'id="screening-form-false-positive"' in page


def test_evidence_words_read_a_malformed_evidence_without_failing():
    assert ("Date of birth", "no date of birth to compare (one side has none)") in evidence_words({})
    assert evidence_words({"pairs": [["a"], ["x", "y", "nan?"]], "adjustments": "no"})  # ignored, not raised
    assert evidence_words("not a dict")  # type: ignore[arg-type]


def test_the_hits_list_filters_by_state_open_first(hit):
    client = client_of(roles.MLRO)
    hit.state = HitState.FALSE_POSITIVE
    hit.save(update_fields=["state"])
    assert f"{page_of(hit)}" not in client.get(HITS).content.decode()  # open by default
    assert page_of(hit) in client.get(f"{HITS}?state=false_positive").content.decode()
    assert page_of(hit) in client.get(f"{HITS}?state=all&list={hit.watchlist_id}").content.decode()
    assert client.get(f"{HITS}?state=nonsense").status_code == 200


# --- the decisions ------------------------------------------------------------------------------------------


def test_confirming_through_the_page_opens_the_sanctions_case_and_suspends(hit):
    client = client_of(roles.AML_ANALYST)
    response = client.post(review_url(hit, "confirm"), {"confirm-note": "Same birth date and nationality"}, follow=True)
    assert response.status_code == 200
    assert any("Hit confirmed" in m for m in messages_of(response))
    hit.refresh_from_db()
    assert hit.state == HitState.CONFIRMED and hit.review_note == "Same birth date and nationality"
    case = Case.objects.get(player=hit.player)
    assert case.type == "sanctions"
    hit.player.refresh_from_db()
    assert hit.player.status == "suspended"
    assert Requirement.objects.filter(player=hit.player, level=3).exists()
    assert AuditEvent.objects.filter(action="screening.hit_confirmed").exists()
    again = client.post(review_url(hit, "confirm"), {"confirm-note": "again"}, follow=True)  # decided: refused
    assert again.status_code == 200
    assert Case.objects.filter(player=hit.player).count() == 1


def test_marking_a_false_positive_through_the_page(hit):
    client = client_of(roles.MLRO)
    response = client.post(review_url(hit, "false_positive"), {"false_positive-note": "DOB differs on ID"}, follow=True)
    assert any("false positive" in m for m in messages_of(response))
    hit.refresh_from_db()
    assert hit.state == HitState.FALSE_POSITIVE
    assert not Case.objects.filter(player=hit.player).exists()
    hit.player.refresh_from_db()
    assert hit.player.status != "suspended"
    again = client.post(review_url(hit, "confirm"), {"confirm-note": "changed my mind"})
    assert again.status_code == 200
    assert any("Nothing was decided" in m for m in messages_of(again))  # hit_not_open, one message
    assert not Case.objects.filter(player=hit.player).exists()


@pytest.mark.parametrize("note", ["", "   ", "why\x00not"])
def test_a_missing_or_hostile_note_is_a_message_and_nothing_changes(hit, note):
    client = client_of(roles.AML_ANALYST)
    response = client.post(review_url(hit, "confirm"), {"confirm-note": note})
    assert response.status_code == 200
    assert any("Nothing was decided" in m for m in messages_of(response))
    hit.refresh_from_db()
    assert hit.state == HitState.OPEN
    assert not Case.objects.filter(player=hit.player).exists()


def test_hostile_review_urls(hit):
    client = client_of(roles.AML_ANALYST)
    assert client.post(review_url(hit, "nonsense"), {"nonsense-note": "x"}).status_code == 404
    assert client.get(review_url(hit, "confirm")).status_code == 302  # a GET decides nothing
    assert client.get(f"{HITS}99999999/change/").status_code == 404
    assert client.get(f"{HITS}abc/change/").status_code == 404
    assert client.post(page_of(hit), {"note": "x"}).status_code == 403
    assert client.get(f"{HITS}add/").status_code == 403
    assert client.post(f"{HITS}{hit.pk}/delete/").status_code in (403, 404)
    hit.refresh_from_db()
    assert hit.state == HitState.OPEN


# --- the wall -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", WALLED)
def test_the_wall_every_other_role_gets_403_or_404_and_no_menu_entry(role, hit):
    client = client_of(role)
    for url in every_url(hit):
        assert client.get(url).status_code in (403, 404), url
    assert client.post(review_url(hit, "confirm"), {"confirm-note": "x"}).status_code in (403, 404)
    assert client.post(review_url(hit, "false_positive"), {"false_positive-note": "x"}).status_code in (403, 404)
    assert client.post(reverse("admin:screening_watchlist_rescreen")).status_code == 403
    upload = SimpleUploadedFile("list.csv", LIST_2, content_type="text/csv")
    assert client.post(reverse("admin:screening_watchlist_import"), {"fmt": "csv", "file": upload}).status_code == 403
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "/admin/screening/" not in index.content.decode()
    hit.refresh_from_db()
    assert hit.state == HitState.OPEN
    assert ListSnapshot.objects.count() == 1


# --- watchlists, import, re-screen ----------------------------------------------------------------------------


def test_the_watchlists_show_the_current_snapshot_and_its_entry_count(listed):
    page = client_of(roles.AML_ANALYST).get(LISTS).content.decode()
    watchlist = WatchList.objects.get()
    assert watchlist.name in page and f"{SNAPSHOTS}{watchlist.current_id}/change/" in page
    assert 'id="screening-import-link"' not in page  # an analyst does not import
    snapshot_page = client_of(roles.AML_ANALYST).get(f"{SNAPSHOTS}{watchlist.current_id}/change/").content.decode()
    assert "2 added, 0 changed, 0 removed" in snapshot_page
    assert "waiting for the re-screen" in snapshot_page


def test_the_mlro_imports_a_list_file_and_a_new_snapshot_is_current(listed):
    client = client_of(roles.MLRO)
    assert 'id="screening-import-link"' in client.get(LISTS).content.decode()
    upload = SimpleUploadedFile("list2.csv", LIST_2, content_type="text/csv")
    response = client.post(reverse("admin:screening_watchlist_import"), {"fmt": "csv", "file": upload}, follow=True)
    assert response.status_code == 200
    assert any("1 added, 0 changed, 0 removed" in m for m in messages_of(response))
    watchlist = WatchList.objects.get()
    assert watchlist.current is not None and watchlist.current.entry_count == 3
    assert ListSnapshot.objects.count() == 2
    same = SimpleUploadedFile("list2.csv", LIST_2, content_type="text/csv")
    again = client.post(reverse("admin:screening_watchlist_import"), {"fmt": "csv", "file": same}, follow=True)
    assert any("unchanged (same file)" in m for m in messages_of(again))


def test_an_analyst_may_not_import(listed):
    client = client_of(roles.AML_ANALYST)
    assert client.get(reverse("admin:screening_watchlist_import")).status_code == 403
    upload = SimpleUploadedFile("list2.csv", LIST_2, content_type="text/csv")
    assert client.post(reverse("admin:screening_watchlist_import"), {"fmt": "csv", "file": upload}).status_code == 403
    assert ListSnapshot.objects.count() == 1


@pytest.mark.parametrize(
    ("fmt", "data", "expected"),
    [
        ("csv", LIST_2 + b"s4,,,1975,RU,Test sanctions,individual\n", "line 5"),
        ("csv", b"\xff\xfe\x00garbage\x00\x00", "Nothing was imported"),
        ("ofac_sdn", b"1,too,few\n", "line 1"),
        ("un_xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "Nothing was imported"),
        ("un_xml", b"\x00" * 1000, "Nothing was imported"),
        ("nonsense", LIST_2, "Nothing was imported"),
    ],
)
def test_a_malformed_list_file_is_one_message_and_nothing_changes(listed, fmt, data, expected):
    client = client_of(roles.MLRO)
    upload = SimpleUploadedFile("bad.csv", data, content_type="text/csv")
    response = client.post(reverse("admin:screening_watchlist_import"), {"fmt": fmt, "file": upload})
    assert response.status_code == 200
    assert any(expected in m for m in messages_of(response)), messages_of(response)
    assert ListSnapshot.objects.count() == 1
    assert WatchList.objects.get().current.entry_count == 2  # type: ignore[union-attr]


def test_a_huge_list_file_is_refused_before_it_is_read(listed, monkeypatch):
    from apps.screening.admin import lists

    monkeypatch.setattr(lists, "LIST_FILE_MAX", 1000)  # the limit itself, not the database
    client = client_of(roles.MLRO)
    upload = SimpleUploadedFile("huge.csv", LIST_2 + b"x" * 2000, content_type="text/csv")
    response = client.post(reverse("admin:screening_watchlist_import"), {"fmt": "csv", "file": upload})
    assert response.status_code == 200
    assert any("at most 1,000" in m for m in messages_of(response))
    assert ListSnapshot.objects.count() == 1


def test_the_rescreen_page_shows_the_progress_and_refreshes_while_it_runs(listed):
    client = client_of(roles.AML_ANALYST)
    idle = client.get(reverse("admin:screening_watchlist_rescreen")).content.decode()
    assert "1 snapshot waiting" in idle and 'http-equiv="refresh"' not in idle
    assert 'id="screening-rescreen-form"' not in idle  # only the MLRO starts it
    Job.objects.create(kind=rescreen_job.KIND, result={"progress": 42.5, "snapshot": 1, "snapshots": {}})
    running = client.get(reverse("admin:screening_watchlist_rescreen")).content.decode()
    assert 'data-percent="42.5"' in running and "width: 42.5%" in running
    assert 'http-equiv="refresh"' in running
    assert 'data-percent="42.5"' in client.get(LISTS).content.decode()


def test_rescreen_now_starts_the_job(listed):
    client = client_of(roles.MLRO)
    assert 'id="screening-rescreen-form"' in client.get(reverse("admin:screening_watchlist_rescreen")).content.decode()
    response = client.post(reverse("admin:screening_watchlist_rescreen"), follow=True)
    assert response.status_code == 200
    assert Job.objects.filter(kind=rescreen_job.KIND, status=JobStatus.RUNNING).count() == 1
    assert any("Re-screen running" in m for m in messages_of(response))
    assert client_of(roles.AML_ANALYST).post(reverse("admin:screening_watchlist_rescreen")).status_code == 403


def test_rescreen_now_with_nothing_waiting_says_so(listed):
    ListSnapshot.objects.update(rescreened_at="2026-01-01T00:00:00Z")
    response = client_of(roles.MLRO).post(reverse("admin:screening_watchlist_rescreen"), follow=True)
    assert any("nothing to do" in m for m in messages_of(response))
    assert not Job.objects.filter(kind=rescreen_job.KIND).exists()


# --- batch screening ----------------------------------------------------------------------------------------


def screen(client: Any, data: bytes) -> Any:
    upload = SimpleUploadedFile("customers.csv", data, content_type="text/csv")
    return client.post(reverse("admin:screening_watchlist_screen_file"), {"file": upload})


@pytest.mark.parametrize("role", SEES)
def test_a_customer_file_is_screened_and_the_results_come_back_as_a_csv(role, listed):
    players_before = PlayerFactory._meta.model.objects.count()
    response = screen(client_of(role), b"name,birth_date,country\nViktor Orlov,1961-03-04,RU\nJane Doe,1990,GB\n")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["hit"] for r in rows] == ["yes", "no"]
    assert rows[0]["entry_id"] == "s1"
    assert PlayerFactory._meta.model.objects.count() == players_before  # nobody stored
    assert not ScreeningHit.objects.exists()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"nom,pays\nA,B\n", "no `name` column"),
        (b"name,birth_date\nViktor Orlov,04/03/1961\n", "line 2"),
        (b"\xff\xfe\x00\x01", "not UTF-8"),
        (b"name\nab\x00cd\n", "NUL"),
        (b"", "Nothing was screened"),
    ],
)
def test_a_malformed_customer_file_is_a_message(listed, data, expected):
    response = screen(client_of(roles.AML_ANALYST), data)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert any(expected in m for m in messages_of(response)), messages_of(response)


def test_a_customer_file_with_no_list_imported_is_a_message():
    response = screen(client_of(roles.AML_ANALYST), b"name\nViktor Orlov\n")
    assert response.status_code == 200
    assert any("Nothing was screened" in m for m in messages_of(response))


def test_a_huge_customer_file_is_refused(listed, monkeypatch):
    from apps.screening.admin import lists

    monkeypatch.setattr(lists, "CUSTOMER_FILE_MAX", 100)
    response = screen(client_of(roles.AML_ANALYST), b"name\n" + b"Jane Doe\n" * 50)
    assert response.status_code == 200
    assert any("at most 100" in m for m in messages_of(response))


def test_the_entries_of_a_snapshot_and_an_exact_id_search(hit):
    client = client_of(roles.AML_ANALYST)
    snapshot = hit.matched_entry.snapshot
    assert "Viktor Petrovich Orlov" in client.get(f"{ENTRIES}?snapshot__id__exact={snapshot.pk}").content.decode()
    found = client.get(f"{ENTRIES}?q=s2").content.decode()
    assert "Ivan Dragomirov" in found and "Viktor Petrovich Orlov" not in found
    assert client.get(f"{ENTRIES}?q=" + "x" * 500).status_code == 200
    assert client.get(f"{ENTRIES}{hit.matched_entry.pk}/change/").status_code == 200
    assert client.post(f"{ENTRIES}{hit.matched_entry.pk}/change/", {"name": "x"}).status_code == 403
