"""Every refusal of apps.responsible.services, through the service itself: the exact code, and nothing changed
(no exclusion, correction, limit or change row, no player or wallet state, no audit event, no outbox message).

``not_liftable`` keeps the operator-lift path (two staff members) from ending a player's own self-exclusion or
time-out: the lift request and the lift decision both refuse one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.audit.services import SystemActor
from apps.players.models import Player
from apps.responsible import services
from apps.responsible.models import Exclusion
from apps.staff.models import StaffUser
from tests.factories import PlayerFactory, StaffUserFactory
from tests.refusals import app_tables, assert_refused, codes_raised_by

pytestmark = pytest.mark.django_db
PLAYER = SystemActor("tests")


@dataclass
class World:
    player: Player  # GB: time-outs of 24 h to 6 weeks, self-exclusion for 6m, 1y or 5y
    maker: StaffUser
    checker: StaffUser

    def operator_exclusion(self, **kwargs: object) -> Exclusion:
        return services.operator_exclude(actor=self.maker, player=self.player, reason="affordability", **kwargs)

    def self_exclusion(self, term: str = "1y") -> Exclusion:
        return services.self_exclude(actor=PLAYER, player=self.player, term=term)


@pytest.fixture
def world() -> World:
    # a Support Agent asks (request_lift, correct_exclusion); an MLRO decides (decide_lift, correct_exclusion)
    return World(
        player=PlayerFactory(),
        maker=StaffUserFactory(roles=["Support Agent"]),
        checker=StaffUserFactory(roles=["MLRO"]),
    )


def at(when: datetime, call: Callable[[], object]) -> Callable[[], object]:
    def travelled() -> object:
        with time_machine.travel(when, tick=False):
            return call()

    return travelled


def later(**delta: float) -> datetime:
    return timezone.now() + timedelta(**delta)


# --- time-outs, self-exclusions, returns --------------------------------------------------------------------


def time_out_too_short(w: World):
    return lambda: services.time_out(actor=PLAYER, player=w.player, hours=23)


def time_out_while_self_excluded(w: World):
    w.self_exclusion()
    return lambda: services.time_out(actor=PLAYER, player=w.player, hours=48)


def self_exclusion_for_a_term_not_offered(w: World):
    return lambda: services.self_exclude(actor=PLAYER, player=w.player, term="3m")


def self_exclusion_shortened(w: World):
    w.self_exclusion("5y")
    return lambda: services.self_exclude(actor=PLAYER, player=w.player, term="6m")


def return_while_the_term_runs(w: World):
    w.self_exclusion("6m")
    return lambda: services.self_exclusion_return_request(actor=PLAYER, player=w.player)


def return_without_an_exclusion(w: World):
    return lambda: services.self_exclusion_return_request(actor=PLAYER, player=w.player)


def second_return_request(w: World):
    w.self_exclusion("6m")
    after_the_term = later(days=200)
    at(after_the_term, lambda: services.self_exclusion_return_request(actor=PLAYER, player=w.player))()
    return at(
        after_the_term + timedelta(hours=1),
        lambda: services.self_exclusion_return_request(actor=PLAYER, player=w.player),
    )


# --- operator exclusions: maker-checker lift ------------------------------------------------------------------


def operator_exclusion_without_reason(w: World):
    return lambda: services.operator_exclude(actor=w.maker, player=w.player, reason=" ")


def operator_exclusion_of_an_unknown_action(w: World):
    return lambda: w.operator_exclusion(capabilities=["fly"])


def operator_exclusion_ending_in_the_past(w: World):
    return lambda: w.operator_exclusion(ends_at=later(minutes=-1))


def lift_request_without_reason(w: World):
    exclusion = w.operator_exclusion()
    return lambda: services.operator_lift_request(actor=w.maker, exclusion=exclusion, reason="")


def lift_of_a_self_exclusion(w: World):
    exclusion = w.self_exclusion("5y")
    return lambda: services.operator_lift_request(actor=w.maker, exclusion=exclusion, reason="player asked")


def lift_of_a_time_out(w: World):
    exclusion = services.time_out(actor=PLAYER, player=w.player, hours=24 * 30)
    return lambda: services.operator_lift_request(actor=w.maker, exclusion=exclusion, reason="player asked")


def lift_of_a_lifted_exclusion(w: World):
    exclusion = w.operator_exclusion()
    services.operator_lift_request(actor=w.maker, exclusion=exclusion, reason="reviewed")
    services.operator_lift_decide(actor=w.checker, exclusion=exclusion, approve=True)
    return at(later(seconds=1), lambda: services.operator_lift_request(actor=w.maker, exclusion=exclusion, reason="x"))


def lift_of_an_expired_exclusion(w: World):
    exclusion = w.operator_exclusion(ends_at=later(hours=1))
    return at(later(hours=2), lambda: services.operator_lift_request(actor=w.maker, exclusion=exclusion, reason="x"))


def second_lift_request(w: World):
    exclusion = w.operator_exclusion()
    services.operator_lift_request(actor=w.maker, exclusion=exclusion, reason="reviewed")
    return lambda: services.operator_lift_request(actor=w.checker, exclusion=exclusion, reason="reviewed too")


def lift_decision_without_a_request(w: World):
    exclusion = w.operator_exclusion()
    return lambda: services.operator_lift_decide(actor=w.checker, exclusion=exclusion, approve=True)


def lift_decision_on_a_self_exclusion(w: World):
    exclusion = w.self_exclusion("5y")
    return lambda: services.operator_lift_decide(actor=w.checker, exclusion=exclusion, approve=True)


def lift_decision_on_a_forged_request(w: World):
    # a lift request written on a self-exclusion behind the service's back (the request itself refuses one)
    exclusion = w.self_exclusion("5y")
    Exclusion.objects.filter(pk=exclusion.pk).update(lift_requested_by=w.maker, lift_requested_at=timezone.now())
    return lambda: services.operator_lift_decide(actor=w.checker, exclusion=exclusion, approve=True)


def lift_approved_by_its_requester(w: World):
    exclusion = w.operator_exclusion()
    services.operator_lift_request(actor=w.maker, exclusion=exclusion, reason="reviewed")
    return lambda: services.operator_lift_decide(actor=w.maker, exclusion=exclusion, approve=True)


# --- corrections: maker-checker -----------------------------------------------------------------------------


def correction_without_reason(w: World):
    exclusion = w.self_exclusion("5y")
    return lambda: services.exclusion_correction_request(actor=w.maker, exclusion=exclusion, term="1y", reason="")


def correction_of_an_operator_exclusion(w: World):
    exclusion = w.operator_exclusion()
    return lambda: services.exclusion_correction_request(actor=w.maker, exclusion=exclusion, term="1y", reason="x")


def correction_to_no_term(w: World):
    exclusion = w.self_exclusion("5y")
    return lambda: services.exclusion_correction_request(actor=w.maker, exclusion=exclusion, term="soon", reason="x")


def correction_to_a_term_not_offered(w: World):
    exclusion = w.self_exclusion("5y")
    return lambda: services.exclusion_correction_request(actor=w.maker, exclusion=exclusion, term="3m", reason="x")


def correction_of_a_time_out_past_its_range(w: World):
    exclusion = services.time_out(actor=PLAYER, player=w.player, hours=72)
    return lambda: services.exclusion_correction_request(
        actor=w.maker, exclusion=exclusion, term=f"{24 * 42 + 1}h", reason="x"
    )


def correction_ending_in_the_past(w: World):
    with time_machine.travel(later(days=-200), tick=False):
        exclusion = w.self_exclusion("5y")
    return lambda: services.exclusion_correction_request(actor=w.maker, exclusion=exclusion, term="6m", reason="x")


def correction_decided_after_its_end_passed(w: World):
    exclusion = w.self_exclusion("5y")
    correction = services.exclusion_correction_request(actor=w.maker, exclusion=exclusion, term="6m", reason="x")
    return at(
        later(days=200),
        lambda: services.exclusion_correction_decide(actor=w.checker, correction=correction, approve=True),
    )


def correction_of_a_corrected_exclusion(w: World):
    exclusion = w.self_exclusion("5y")
    correction = services.exclusion_correction_request(actor=w.maker, exclusion=exclusion, term="1y", reason="typo")
    services.exclusion_correction_decide(actor=w.checker, correction=correction, approve=True)
    return lambda: services.exclusion_correction_request(actor=w.maker, exclusion=exclusion, term="1y", reason="again")


def second_correction_approved_after_the_first(w: World):
    exclusion = w.self_exclusion("5y")
    first = services.exclusion_correction_request(actor=w.maker, exclusion=exclusion, term="1y", reason="typo")
    second = services.exclusion_correction_request(actor=w.maker, exclusion=exclusion, term="1y", reason="typo 2")
    services.exclusion_correction_decide(actor=w.checker, correction=first, approve=True)
    return lambda: services.exclusion_correction_decide(actor=w.checker, correction=second, approve=True)


def correction_decided_twice(w: World):
    exclusion = w.self_exclusion("5y")
    correction = services.exclusion_correction_request(actor=w.maker, exclusion=exclusion, term="1y", reason="typo")
    services.exclusion_correction_decide(actor=w.checker, correction=correction, approve=False, reason="as keyed")
    return lambda: services.exclusion_correction_decide(actor=w.checker, correction=correction, approve=True)


def correction_approved_by_its_requester(w: World):
    exclusion = w.self_exclusion("5y")
    correction = services.exclusion_correction_request(actor=w.maker, exclusion=exclusion, term="1y", reason="typo")
    return lambda: services.exclusion_correction_decide(actor=w.maker, correction=correction, approve=True)


# --- limits -----------------------------------------------------------------------------------------------


def limit(w: World, value: object, **kwargs: object):
    kwargs = {"kind": "deposit", "period": "day", **kwargs}
    return lambda: services.limit_set(actor=PLAYER, player=w.player, value=value, **kwargs)  # type: ignore[arg-type]


def limit_of_an_unknown_kind(w: World):
    return limit(w, "10.00", kind="happiness")


def limit_of_a_session_period_for_deposits(w: World):
    return limit(w, "10.00", period="session")


def limit_not_a_number(w: World):
    return limit(w, "ten")


def limit_of_27_digits(w: World):
    return limit(w, "1" * 27)


def limit_too_precise(w: World):
    return limit(w, "10.001")


def limit_as_a_float(w: World):
    return limit(w, 10.5)


def session_limit_of_part_of_a_minute(w: World):
    return limit(w, "1.5", kind="session", period="session")


def removal_of_no_limit(w: World):
    return limit(w, None)


def limit_from_an_unknown_source(w: World):
    return limit(w, "10.00", source="regulator")


def operator_limit_without_reason(w: World):
    return limit(w, "10.00", source="operator", reason="", staff=w.maker)


def raised_limit(w: World):
    services.limit_set(actor=PLAYER, player=w.player, kind="deposit", period="day", value="100.00")
    return services.limit_set(actor=PLAYER, player=w.player, kind="deposit", period="day", value="200.00").change


def confirm_during_the_cooling_off(w: World):
    change = raised_limit(w)
    return lambda: services.limit_confirm(actor=PLAYER, player=w.player, change=change)


def confirm_after_the_window(w: World):
    change = raised_limit(w)
    return at(later(hours=24 + 169), lambda: services.limit_confirm(actor=PLAYER, player=w.player, change=change))


def confirm_an_applied_change(w: World):
    change = services.limit_set(actor=PLAYER, player=w.player, kind="deposit", period="day", value="100.00").change
    return lambda: services.limit_confirm(actor=PLAYER, player=w.player, change=change)


def confirm_a_superseded_change(w: World):
    change = raised_limit(w)
    services.limit_set(actor=PLAYER, player=w.player, kind="deposit", period="day", value="50.00")  # cancels it
    return at(later(hours=25), lambda: services.limit_confirm(actor=PLAYER, player=w.player, change=change))


def interaction_without_summary(w: World):
    return lambda: services.interaction_record(actor=w.maker, player=w.player, channel="call", summary=" ", outcome="")


CASES: list[tuple[str, Callable[[World], Callable[[], object]]]] = [
    ("term_not_allowed", time_out_too_short),
    ("exclusion_active", time_out_while_self_excluded),
    ("term_not_allowed", self_exclusion_for_a_term_not_offered),
    ("exclusion_active", self_exclusion_shortened),
    ("exclusion_active", return_while_the_term_runs),
    ("no_exclusion", return_without_an_exclusion),
    ("cooling_off_pending", second_return_request),
    ("reason_required", operator_exclusion_without_reason),
    ("invalid", operator_exclusion_of_an_unknown_action),
    ("invalid", operator_exclusion_ending_in_the_past),
    ("reason_required", lift_request_without_reason),
    ("not_liftable", lift_of_a_self_exclusion),
    ("not_liftable", lift_of_a_time_out),
    ("not_in_force", lift_of_a_lifted_exclusion),
    ("not_in_force", lift_of_an_expired_exclusion),
    ("lift_pending", second_lift_request),
    ("no_lift_request", lift_decision_without_a_request),
    ("not_liftable", lift_decision_on_a_self_exclusion),
    ("not_liftable", lift_decision_on_a_forged_request),
    ("same_approver", lift_approved_by_its_requester),
    ("reason_required", correction_without_reason),
    ("not_correctable", correction_of_an_operator_exclusion),
    ("term_not_allowed", correction_to_no_term),
    ("term_not_allowed", correction_to_a_term_not_offered),
    ("term_not_allowed", correction_of_a_time_out_past_its_range),
    ("correction_ends_in_past", correction_ending_in_the_past),
    ("correction_ends_in_past", correction_decided_after_its_end_passed),
    ("already_corrected", correction_of_a_corrected_exclusion),
    ("already_corrected", second_correction_approved_after_the_first),
    ("already_decided", correction_decided_twice),
    ("same_approver", correction_approved_by_its_requester),
    ("limit_invalid", limit_of_an_unknown_kind),
    ("limit_invalid", limit_of_a_session_period_for_deposits),
    ("limit_invalid", limit_not_a_number),
    ("limit_invalid", limit_of_27_digits),
    ("limit_invalid", limit_too_precise),
    ("limit_invalid", limit_as_a_float),
    ("limit_invalid", session_limit_of_part_of_a_minute),
    ("limit_invalid", removal_of_no_limit),
    ("limit_invalid", limit_from_an_unknown_source),
    ("reason_required", operator_limit_without_reason),
    ("cooling_off_pending", confirm_during_the_cooling_off),
    ("change_lapsed", confirm_after_the_window),
    ("change_not_pending", confirm_an_applied_change),
    ("change_not_pending", confirm_a_superseded_change),
    ("invalid", interaction_without_summary),
]
TABLES = app_tables("responsible", "players", "wallet", "approvals")


@pytest.mark.parametrize(("code", "case"), CASES, ids=[f"{code}-{case.__name__}" for code, case in CASES])
def test_it_refuses_with_the_code_and_changes_nothing(world, code, case):
    assert_refused(case(world), code, tables=TABLES)


def test_it_has_a_case_for_every_code_the_module_raises():
    assert codes_raised_by(services) <= {code for code, _ in CASES}


def test_the_lift_path_never_ends_a_players_own_exclusion(world):
    """Neither step of the two-person lift takes a self-exclusion: the request refuses it (403 ``not_liftable``),
    and so does the decision on a request forged behind the service's back; the exclusion stays in force."""
    exclusion = world.self_exclusion("5y")
    refusal = assert_refused(
        lambda: services.operator_lift_request(actor=world.maker, exclusion=exclusion, reason="player asked"),
        "not_liftable",
        tables=TABLES,
    )
    assert refusal.status == 403
    Exclusion.objects.filter(pk=exclusion.pk).update(lift_requested_by=world.maker, lift_requested_at=timezone.now())
    refusal = assert_refused(
        lambda: services.operator_lift_decide(actor=world.checker, exclusion=exclusion, approve=True),
        "not_liftable",
        tables=TABLES,
    )
    assert refusal.status == 403
    exclusion.refresh_from_db()
    assert exclusion.in_force() and exclusion.lift_approved_by is None and exclusion.released_at is None
