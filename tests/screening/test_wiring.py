"""Screening wired into the player services (registration and identity changes, failing closed) and into the
compliance work (a confirmed hit opens a sanctions case, suspends the account and requires level 3)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from apps.audit.services import SystemActor
from apps.compliance.models import Case
from apps.core.errors import ApplicationError
from apps.kyc.models import Requirement
from apps.players import services as players
from apps.players.models import Brand, Player
from apps.screening.imports import import_list
from apps.screening.models import HitState, ScreeningHit
from apps.screening.wiring import hit_confirm, hit_false_positive
from apps.staff import roles
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
PLATFORM = SystemActor("tests")
LIST = (
    b"id,name,aliases,date_of_birth,country,list,type\n"
    b"s1,Viktor Petrovich Orlov,,1961-03-04,RU,Test sanctions,individual\n"
)


@pytest.fixture
def listed() -> None:
    import_list(fmt="csv", data=LIST, file_name="test.csv")


@pytest.fixture(autouse=True)
def required(settings: Any) -> None:
    settings.SCREENING_REQUIRED = True


def registration(**changes: Any) -> dict[str, Any]:
    data = {
        "external_id": "scr-1",
        "username": "scr",
        "email": "scr@example.com",
        "first_name": "Ada",
        "last_name": "Byron",
        "date_of_birth": date(1985, 12, 10),
        "country": "GB",
        "currency": "GBP",
        "brand": Brand.objects.default(),
    }
    return {**data, **changes}


def test_with_no_list_a_registration_is_refused_fail_closed():
    with pytest.raises(ApplicationError) as excinfo:
        players.player_register(actor=PLATFORM, data=registration(), ip="81.2.69.160")
    assert excinfo.value.code == "registration_refused"
    assert "screening_unavailable" in str(excinfo.value.fields)
    assert not Player.objects.filter(external_id="scr-1").exists()


def test_with_screening_not_required_a_registration_without_lists_goes_through(settings):
    settings.SCREENING_REQUIRED = False
    players.player_register(actor=PLATFORM, data=registration(), ip="81.2.69.160")
    assert Player.objects.filter(external_id="scr-1").exists()


def test_a_listed_name_registers_without_being_told_and_leaves_an_open_hit(listed):
    player = players.player_register(
        actor=PLATFORM,
        data=registration(first_name="Viktor", last_name="Orlov", date_of_birth=date(1961, 3, 4)),
        ip="81.2.69.160",
    )
    hit = ScreeningHit.objects.get(player=player)
    assert hit.state == HitState.OPEN and hit.entry_id == "s1"
    clean = players.player_register(actor=PLATFORM, data=registration(external_id="scr-2", email="b@example.com"))
    assert not ScreeningHit.objects.filter(player=clean).exists()


def test_a_name_change_is_screened_in_the_edit(listed):
    player = PlayerFactory(first_name="Ada", last_name="Byron", date_of_birth=date(1985, 12, 10))
    staff = StaffUserFactory(roles=[roles.ADMINISTRATOR])
    players.player_update(
        actor=staff,
        player=player,
        staff=True,
        reason="marriage certificate",
        changes={"first_name": "Viktor", "last_name": "Orlov", "date_of_birth": date(1961, 3, 4)},
    )
    assert ScreeningHit.objects.filter(player=player, state=HitState.OPEN).count() == 1


def test_with_no_list_a_name_change_is_refused_and_nothing_changes():
    player = PlayerFactory(first_name="Ada", last_name="Byron")
    staff = StaffUserFactory(roles=[roles.ADMINISTRATOR])
    with pytest.raises(ApplicationError) as excinfo:
        players.player_update(
            actor=staff, player=player, staff=True, reason="deed poll", changes={"last_name": "Lovelace"}
        )
    assert excinfo.value.code == "screening_list_missing"
    player.refresh_from_db()
    assert player.last_name == "Byron"


def test_confirming_a_hit_opens_a_sanctions_case_suspends_and_requires_level_3(listed):
    player = players.player_register(
        actor=PLATFORM,
        data=registration(first_name="Viktor", last_name="Orlov", date_of_birth=date(1961, 3, 4)),
    )
    hit = ScreeningHit.objects.get(player=player)
    analyst = StaffUserFactory(roles=[roles.AML_ANALYST])
    hit_confirm(actor=analyst, hit=hit, note="Same date of birth and nationality as the listed person")
    case = Case.objects.get(player=player)
    assert (case.type, case.source, case.priority) == ("sanctions", "sanctions", "high")
    player.refresh_from_db()
    assert player.status == "suspended"
    requirement = Requirement.objects.get(player=player, level=3)
    assert requirement.trigger == "screening_match"
    assert Case.objects.filter(player=player).count() == 1  # the level-3 requirement opens no second (EDD) case


def test_a_false_positive_is_remembered_and_a_support_agent_cannot_review(listed):
    player = players.player_register(
        actor=PLATFORM,
        data=registration(first_name="Viktor", last_name="Orlov", date_of_birth=date(1961, 3, 4)),
    )
    hit = ScreeningHit.objects.get(player=player)
    with pytest.raises(ApplicationError) as excinfo:
        hit_confirm(actor=StaffUserFactory(roles=[roles.SUPPORT_AGENT]), hit=hit, note="x")
    assert excinfo.value.code == "hit_review_not_permitted"
    assert not Case.objects.filter(player=player).exists()
    hit_false_positive(actor=StaffUserFactory(roles=[roles.AML_ANALYST]), hit=hit, note="Another person: DOB differs")
    from apps.screening.hits import screen_player

    assert screen_player(player, actor=PLATFORM) == []  # remembered for this name, birth date and entry


def test_the_demo_imports_its_watchlist_and_raises_a_hit_once():
    from apps.players.demo import seed_players
    from apps.screening import demo

    seed_players(50, actor=PLATFORM)
    lines = demo.seed(actor=PLATFORM, count=None)
    assert "imported" in lines[0] and "1 hit(s) to review" in lines[1]
    assert demo.seed(actor=PLATFORM, count=None) == ["screening: demo watchlist already there"]
    assert ScreeningHit.objects.count() == 1
