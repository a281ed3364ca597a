"""Every refusal of apps.responsible.identity_changes, through the service itself: the exact code, and nothing
changed (no request or decision, no player edit, no coverage row, no audit event)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from apps.audit.services import SystemActor
from apps.players.models import Player
from apps.players.services import player_update
from apps.responsible import identity_changes
from apps.responsible.models import IdentityChangeRequest
from apps.responsible.services import self_exclude
from apps.staff import roles
from tests.factories import PlayerFactory, StaffUserFactory
from tests.refusals import app_tables, assert_refused, codes_raised_by

pytestmark = pytest.mark.django_db
TABLES = app_tables("responsible", "players")
DIFF = {"last_name": {"old": "Smith", "new": "Smyth"}}


def covered_twin() -> Player:
    """The second account of a self-excluded person (same name and birth date, another e-mail)."""
    person = {"first_name": "Ann", "last_name": "Smith", "date_of_birth": date(1990, 3, 4)}
    self_exclude(actor=SystemActor("player"), player=PlayerFactory(**person), term="5y")
    return PlayerFactory(**person)


def held_request(maker=None) -> IdentityChangeRequest:
    maker = maker or StaffUserFactory(roles=[roles.KYC_OFFICER])
    twin = covered_twin()
    with pytest.raises(Exception) as held:
        player_update(actor=maker, player=twin, changes={"last_name": "Smyth"}, staff=True, reason="passport")
    assert held.value.code == "second_person_required"
    return IdentityChangeRequest.objects.get(player=twin)


def request(**kwargs: object) -> Callable[[], object]:
    kwargs = {"actor": StaffUserFactory(roles=[roles.KYC_OFFICER]), "diff": DIFF, "reason": "passport", **kwargs}
    player = covered_twin()
    return lambda: identity_changes.identity_change_request(player=player, **kwargs)  # type: ignore[arg-type]


def a_request_by_the_platform():
    return request(actor=SystemActor("platform"))


def a_request_without_reason():
    return request(reason="  ")


def a_request_of_no_change():
    return request(diff={})


def a_decision_without_the_permission():
    held = held_request()
    finance = StaffUserFactory(roles=[roles.FINANCE_OFFICER])
    return lambda: identity_changes.identity_change_decide(actor=finance, request=held, approve=True)


def a_decision_by_the_maker():
    maker = StaffUserFactory(roles=[roles.KYC_OFFICER])
    held = held_request(maker)
    return lambda: identity_changes.identity_change_decide(actor=maker, request=held, approve=True)


def a_second_decision():
    held = held_request()
    checker = StaffUserFactory(roles=[roles.MLRO])
    identity_changes.identity_change_decide(actor=checker, request=held, approve=False, reason="no proof")
    return lambda: identity_changes.identity_change_decide(actor=checker, request=held, approve=True)


def a_refusal_without_reason():
    held = held_request()
    checker = StaffUserFactory(roles=[roles.MLRO])
    return lambda: identity_changes.identity_change_decide(actor=checker, request=held, approve=False, reason=" ")


CASES: list[tuple[str, Callable[[], Callable[[], object]]]] = [
    ("staff_only", a_request_by_the_platform),
    ("reason_required", a_request_without_reason),
    ("nothing_to_change", a_request_of_no_change),
    ("permission_denied", a_decision_without_the_permission),
    ("same_approver", a_decision_by_the_maker),
    ("already_decided", a_second_decision),
    ("reason_required", a_refusal_without_reason),
]


@pytest.mark.parametrize(("code", "case"), CASES, ids=[f"{code}-{case.__name__}" for code, case in CASES])
def test_it_refuses_with_the_code_and_changes_nothing(code, case):
    assert_refused(case(), code, tables=TABLES)


def test_it_has_a_case_for_every_code_the_module_raises():
    assert codes_raised_by(identity_changes) <= {code for code, _ in CASES}
