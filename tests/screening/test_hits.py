"""Screening stored players: hits written once, reviewed by compliance only, false positives remembered until the
name, the birth date or the entry changes; batch screening of a customer file."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.screening.errors import (
    HitNotOpen,
    HitReviewNotPermitted,
    ListMissing,
    ReviewDecisionUnknown,
    ReviewNoteRequired,
    ScreenFileInvalid,
)
from apps.screening.hits import review_hit, screen_player
from apps.screening.imports import import_list
from apps.screening.models import HitState, ScreeningHit
from apps.staff.models import StaffUser
from tests.factories import PlayerFactory
from tests.screening.samples import SDN

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("test")


@pytest.fixture
def ofac() -> None:
    import_list(fmt="ofac_sdn", data=SDN, file_name="sdn.csv")


def test_a_listed_player_gets_one_open_hit(ofac: None) -> None:
    player = PlayerFactory(first_name="Abboud", last_name="Al-Zomor", date_of_birth=date(1947, 4, 19), country="EG")
    (hit,) = screen_player(player, actor=ACTOR)
    assert (hit.state, hit.entry_id, hit.watchlist.code) == (HitState.OPEN, "100", "ofac-sdn")
    assert hit.evidence["dob"] == "exact" and hit.score >= 0.7
    assert screen_player(player, actor=ACTOR) == [hit]  # screened again: the same open hit, no second one
    assert ScreeningHit.objects.count() == 1
    assert AuditEvent.objects.filter(action="screening.hit_opened").count() == 1


def test_a_stranger_gets_none(ofac: None) -> None:
    assert screen_player(PlayerFactory(first_name="Olivia", last_name="Hartley"), actor=ACTOR) == []


def test_screening_fails_closed_without_a_list() -> None:
    with pytest.raises(ListMissing):
        screen_player(PlayerFactory(), actor=ACTOR)


def test_a_false_positive_is_remembered_until_something_changes(ofac: None, aml_analyst: StaffUser) -> None:
    player: Any = PlayerFactory(first_name="Ivan", last_name="Petrov", date_of_birth=date(1970, 2, 2), country="RU")
    (hit,) = screen_player(player, actor=ACTOR)
    reviewed = review_hit(hit, decision="false_positive", note="Another Ivan Petrov: passport seen", actor=aml_analyst)
    assert reviewed.state == HitState.FALSE_POSITIVE and reviewed.reviewed_by == aml_analyst
    assert AuditEvent.objects.filter(action="screening.hit_false_positive").count() == 1
    assert screen_player(player, actor=ACTOR) == []  # remembered
    # the entry changes: screened afresh
    import_list(fmt="ofac_sdn", data=SDN.replace(b"nationality Russia", b"nationality Russia; a.k.a. 'PETROV, V'"),
                file_name="sdn.csv")  # fmt: skip
    (again,) = screen_player(player, actor=ACTOR)
    assert again.pk != hit.pk and again.state == HitState.OPEN
    review_hit(again, decision="false_positive", note="Still another person", actor=aml_analyst)
    # the player's birth date changes: screened afresh
    player.date_of_birth = date(1970, 3, 3)
    player.save()
    (third,) = screen_player(player, actor=ACTOR)
    assert third.state == HitState.OPEN


def test_a_confirmed_hit_stays_decided(ofac: None, mlro: StaffUser) -> None:
    player = PlayerFactory(first_name="Ivan", last_name="Petrov", date_of_birth=date(1970, 2, 2))
    (hit,) = screen_player(player, actor=ACTOR)
    review_hit(hit, decision="confirmed", note="Matches the passport and the photo", actor=mlro)
    assert AuditEvent.objects.filter(action="screening.hit_confirmed").count() == 1
    assert screen_player(player, actor=ACTOR) == []
    with pytest.raises(HitNotOpen) as exc:
        review_hit(hit, decision="false_positive", note="changed my mind", actor=mlro)
    assert exc.value.code == "hit_not_open" and exc.value.status == 409


def test_only_compliance_reviews(
    ofac: None, support_agent: StaffUser, kyc_officer: StaffUser, aml_analyst: StaffUser
) -> None:
    (hit,) = screen_player(
        PlayerFactory(first_name="Ivan", last_name="Petrov", date_of_birth=date(1970, 1, 1)), actor=ACTOR
    )
    for who in (support_agent, kyc_officer, ACTOR):
        with pytest.raises(HitReviewNotPermitted) as denied:
            review_hit(hit, decision="confirmed", note="x", actor=who)
        assert denied.value.code == "hit_review_not_permitted" and denied.value.status == 403
    with pytest.raises(ReviewNoteRequired) as no_note:
        review_hit(hit, decision="confirmed", note="  ", actor=aml_analyst)
    assert no_note.value.code == "review_note_required"
    with pytest.raises(ReviewDecisionUnknown) as unknown:
        review_hit(hit, decision="maybe", note="x", actor=aml_analyst)
    assert unknown.value.code == "review_decision_unknown"
    assert ScreeningHit.objects.get(pk=hit.pk).state == HitState.OPEN


def test_screen_file(ofac: None, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "name,birth_date,country\n"
        "Abboud Al-Zomor,1947-04-19,EG\n"
        "Olivia Hartley,1990,GB\n"
        "Ivan Petrov,1970,\n"
        "PETROV Ivan,1985-01-01,\n",
        encoding="utf-8",
    )
    target = tmp_path / "out.csv"
    call_command("screen_file", str(source), str(target))
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(r["name"], r["hit"], r["entry_id"]) for r in rows] == [
        ("Abboud Al-Zomor", "yes", "100"),
        ("Olivia Hartley", "no", ""),
        ("Ivan Petrov", "yes", "101"),
        ("PETROV Ivan", "no", ""),  # born 1985: the listed Ivan Petrov was born in 1970
    ]
    assert rows[0]["list"] == "ofac-sdn" and float(rows[0]["score"]) >= 0.7
    assert '"dob": "exact"' in rows[0]["evidence"]
    from apps.players.models import Player

    assert not Player.objects.exists()  # nobody stored


def test_screen_file_refusals(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    target = tmp_path / "out.csv"
    source.write_text("name,birth_date,country\nA B,1970,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="No watchlist has been imported"):
        call_command("screen_file", str(source), str(target))
    assert not target.exists()
    import_list(fmt="ofac_sdn", data=SDN, file_name="sdn.csv")
    source.write_text("name,birth_date,country\nA B,1970,\nC D,03/04/1970,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 3: birth_date '03/04/1970'"):
        call_command("screen_file", str(source), str(target))
    source.write_text("who,birth_date\nA,1970\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no `name` column"):
        call_command("screen_file", str(source), str(target))
    from apps.screening.batch import read_people

    with pytest.raises(ScreenFileInvalid, match="line 2: the name is empty") as exc:
        read_people("name,birth_date\n,1970\n")
    assert exc.value.code == "screen_file_invalid"
