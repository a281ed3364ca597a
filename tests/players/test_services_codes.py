"""Every refusal of apps.players.services and apps.players.restrictions, through the services themselves: the
exact code, and nothing changed (no player, restriction, note or tag row, no withdrawal hold, no audit event, no
outbox message)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from apps.audit.services import SystemActor
from apps.players import restrictions, services
from apps.players.models import Brand, Player
from apps.staff import roles
from apps.staff.models import StaffUser
from tests.factories import PlayerFactory, StaffUserFactory
from tests.refusals import app_tables, assert_refused, codes_raised_by

pytestmark = pytest.mark.django_db
PLATFORM = SystemActor("platform")
# every table but the log of questions asked to national registers: a question asked stays asked (the race case
# asks GAMSTOP before the unique index refuses the player)
TABLES = tuple(
    m for m in app_tables("players", "wallet", "responsible") if m._meta.label != "responsible.RegisterCheck"
)


@dataclass
class World:
    player: Player
    mlro: StaffUser
    other_mlro: StaffUser
    support: StaffUser
    finance: StaffUser
    monkeypatch: pytest.MonkeyPatch


@pytest.fixture
def world(monkeypatch) -> World:
    return World(
        player=PlayerFactory(),
        mlro=StaffUserFactory(roles=[roles.MLRO]),
        other_mlro=StaffUserFactory(roles=[roles.MLRO]),
        support=StaffUserFactory(roles=[roles.SUPPORT_AGENT]),
        finance=StaffUserFactory(roles=[roles.FINANCE_OFFICER]),
        monkeypatch=monkeypatch,
    )


def registration(**changes: Any) -> dict[str, Any]:
    data = {
        "external_id": "reg-1",
        "username": "reg",
        "email": "reg@example.com",
        "first_name": "Ada",
        "last_name": "Byron",
        "date_of_birth": date(1985, 12, 10),
        "country": "GB",
        "currency": "GBP",
        "brand": Brand.objects.default(),
    }
    return {**data, **changes}


def register(**changes: Any) -> Callable[[], object]:
    return lambda: services.player_register(actor=PLATFORM, data=registration(**changes), ip="81.2.69.160")


# --- registration and profile -----------------------------------------------------------------------------


def register_a_taken_external_id(w: World):
    return register(external_id=w.player.external_id)


def register_a_taken_email_in_other_case(w: World):
    return register(email=w.player.email.upper())


def register_under_age(w: World):
    return register(date_of_birth=date.today().replace(year=date.today().year - 10, month=1, day=1))


def register_in_an_unlicensed_market(w: World):
    return register(country="FR", currency="EUR")


def register_the_loser_of_a_race(w: World):
    # the duplicate check ran before the other registration committed: the unique index decides
    PlayerFactory(external_id="reg-1")
    w.monkeypatch.setattr(services, "_duplicate_check", lambda **kwargs: None)
    return register()


def platform_edits_the_name(w: World):
    return lambda: services.player_update(actor=PLATFORM, player=w.player, changes={"first_name": "Eve"})


def platform_takes_another_players_email(w: World):
    other = PlayerFactory()
    return lambda: services.player_update(actor=PLATFORM, player=w.player, changes={"email": other.email.upper()})


def staff_edit_without_reason(w: World):
    return lambda: services.player_update(
        actor=w.mlro, player=w.player, changes={"last_name": "Lovelace"}, staff=True, reason=" "
    )


# --- status, blocks, authorities ------------------------------------------------------------------------


def status(w: World, actor: Any, value: str, reason: str = "source of funds", **kwargs: Any):
    return lambda: services.player_set_status(actor=actor, player=w.player, status=value, reason=reason, **kwargs)


def block(w: World, actor: Any, blocked: bool, capability: str = "withdrawal", reason: str = "review", **kwargs: Any):
    return lambda: services.player_set_block(
        actor=actor, player=w.player, capability=capability, blocked=blocked, reason=reason, **kwargs
    )


def suspend_without_reason(w: World):
    return status(w, w.mlro, "suspended", reason="")


def an_unknown_status(w: World):
    return status(w, w.mlro, "frozen")


def activate_an_active_account(w: World):
    return status(w, w.mlro, "active")


def suspend_on_an_unknown_authority(w: World):
    return status(w, w.mlro, "suspended", authority="police")


def support_suspends_on_compliance_authority(w: World):
    return status(w, w.support, "suspended", authority="compliance")


def finance_lifts_a_compliance_suspension(w: World):
    status(w, w.mlro, "suspended", authority="compliance")()
    return status(w, w.finance, "active", reason="paid in full")


def one_mlro_lifts_a_compliance_suspension_twice(w: World):
    status(w, w.mlro, "suspended", authority="compliance")()
    status(w, w.mlro, "active", reason="documents received")()  # the first of two people
    return status(w, w.mlro, "active", reason="documents received")


def block_without_reason(w: World):
    return block(w, w.mlro, True, reason=" ")


def block_an_unknown_capability(w: World):
    return block(w, w.mlro, True, capability="breathing")


def unblock_what_is_not_blocked(w: World):
    return block(w, w.mlro, False)


def block_on_an_unknown_authority(w: World):
    return block(w, w.mlro, True, authority="police")


def finance_lifts_a_responsible_gambling_block(w: World):
    block(w, w.mlro, True, capability="deposit", authority="responsible_gambling")()
    return block(w, w.finance, False, capability="deposit")


def one_mlro_lifts_a_compliance_block_twice(w: World):
    block(w, w.mlro, True, authority="compliance")()
    block(w, w.mlro, False)()  # the first of two people
    return block(w, w.mlro, False)


# --- notes ---------------------------------------------------------------------------------------------------


def note(w: World, actor: StaffUser, text: str = "Called about a payment.", visibility: str = "general"):
    return lambda: services.player_note_add(actor=actor, player=w.player, text=text, visibility=visibility)


def an_empty_note(w: World):
    return note(w, w.support, text="  ")


def a_note_of_an_unknown_visibility(w: World):
    return note(w, w.mlro, visibility="secret")


def support_writes_a_compliance_note(w: World):
    return note(w, w.support, visibility="compliance")


CASES: list[tuple[str, Callable[[World], Callable[[], object]]]] = [
    ("external_id_taken", register_a_taken_external_id),
    ("email_taken", register_a_taken_email_in_other_case),
    ("registration_refused", register_under_age),
    ("registration_refused", register_in_an_unlicensed_market),
    ("player_exists", register_the_loser_of_a_race),
    ("field_read_only", platform_edits_the_name),
    ("email_taken", platform_takes_another_players_email),
    ("reason_required", staff_edit_without_reason),
    ("reason_required", suspend_without_reason),
    ("invalid", an_unknown_status),
    ("status_unchanged", activate_an_active_account),
    ("authority_invalid", suspend_on_an_unknown_authority),
    ("authority_required", support_suspends_on_compliance_authority),
    ("authority_required", finance_lifts_a_compliance_suspension),
    ("same_approver", one_mlro_lifts_a_compliance_suspension_twice),
    ("reason_required", block_without_reason),
    ("invalid", block_an_unknown_capability),
    ("block_unchanged", unblock_what_is_not_blocked),
    ("authority_invalid", block_on_an_unknown_authority),
    ("authority_required", finance_lifts_a_responsible_gambling_block),
    ("same_approver", one_mlro_lifts_a_compliance_block_twice),
    ("invalid", an_empty_note),
    ("visibility_invalid", a_note_of_an_unknown_visibility),
    ("visibility_not_allowed", support_writes_a_compliance_note),
]
# ChangeHeld ("second_person_required") keeps what its guard recorded by design: apps.responsible's identity
# guard and its tests own that refusal.
RECORDS_BY_DESIGN = {"second_person_required"}


@pytest.mark.parametrize(("code", "case"), CASES, ids=[f"{code}-{case.__name__}" for code, case in CASES])
def test_it_refuses_with_the_code_and_changes_nothing(world, code, case):
    assert_refused(case(world), code, tables=TABLES)


def test_it_has_a_case_for_every_code_the_modules_raise():
    raised = codes_raised_by(services) | codes_raised_by(restrictions)
    assert raised - RECORDS_BY_DESIGN <= {code for code, _ in CASES}
