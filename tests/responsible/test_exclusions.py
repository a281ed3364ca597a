from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.audit.services import SystemActor
from apps.core.models import OutboxEvent
from apps.geo.terms import term_end
from apps.players.eligibility import can
from apps.responsible import services
from apps.responsible.models import Exclusion
from apps.wallet import posting
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("tests")


def refused(player, action="login"):
    return can(player, action).reasons


def test_a_gb_time_out_is_within_24_hours_and_6_weeks_and_cannot_be_shortened(player):
    for hours in (23, 24 * 42 + 1):
        with pytest.raises(Exception) as exc:
            services.time_out(actor=ACTOR, player=player, hours=hours)
        assert exc.value.code == "term_not_allowed"
    services.time_out(actor=ACTOR, player=player, hours=72)
    for action in ("login", "deposit", "bet", "game_launch", "bonus", "marketing"):
        assert "timed_out" in refused(player, action)
    assert can(player, "withdraw").allowed  # their money is never locked in
    with pytest.raises(Exception) as exc:
        services.time_out(actor=ACTOR, player=player, hours=24)
    assert exc.value.code == "exclusion_active"
    assert OutboxEvent.objects.filter(type="player.timed_out", key=player.external_id).exists()
    with time_machine.travel(timezone.now() + timedelta(hours=71), tick=False):
        assert "timed_out" in refused(player)
    with time_machine.travel(timezone.now() + timedelta(hours=73), tick=False):
        assert can(player, "login").allowed


def test_a_german_time_out_is_exactly_24_hours():
    german = PlayerFactory(country="DE", currency="EUR")
    with pytest.raises(Exception) as exc:
        services.time_out(actor=ACTOR, player=german, hours=48)
    assert exc.value.code == "term_not_allowed"
    services.time_out(actor=ACTOR, player=german, hours=24)
    assert "timed_out" in refused(german, "deposit")


def test_a_gb_self_exclusion_outlasts_its_term_until_the_player_asks_to_return(player):
    with pytest.raises(Exception) as exc:
        services.self_exclude(actor=ACTOR, player=player, term="3m")  # GB offers 6m / 1y / 5y
    assert exc.value.code == "term_not_allowed"
    start = timezone.now()
    services.self_exclude(actor=ACTOR, player=player, term="1y")
    assert "self_excluded" in refused(player, "login")
    with pytest.raises(posting.PostingRefused) as no:
        posting.wallet_deposit(player=player, amount=Decimal("10.00"), currency="GBP")
    assert no.value.code == "self_excluded"
    with pytest.raises(Exception) as exc:
        services.self_exclude(actor=ACTOR, player=player, term="6m")  # would shorten it
    assert exc.value.code == "exclusion_active"
    with pytest.raises(Exception) as exc:
        services.self_exclusion_return_request(actor=ACTOR, player=player)
    assert exc.value.code == "exclusion_active"
    with time_machine.travel(start + timedelta(days=370), tick=False):
        assert "self_excluded" in refused(player)  # the term is over, the account stays closed
        services.self_exclusion_return_request(actor=ACTOR, player=player)
        with pytest.raises(Exception) as exc:
            services.self_exclusion_return_request(actor=ACTOR, player=player)
        assert exc.value.code == "cooling_off_pending"
    with time_machine.travel(start + timedelta(days=370, hours=23), tick=False):
        assert "self_excluded" in refused(player)
    with time_machine.travel(start + timedelta(days=370, hours=25), tick=False):
        assert can(player, "login").allowed


def test_a_dutch_self_excluded_player_returns_after_an_eight_day_reflection():
    dutch = PlayerFactory(country="NL", currency="EUR")
    start = timezone.now()
    services.self_exclude(actor=ACTOR, player=dutch, term="6m")
    with time_machine.travel(start + timedelta(days=190), tick=False):
        services.self_exclusion_return_request(actor=ACTOR, player=dutch)
    with time_machine.travel(start + timedelta(days=197), tick=False):
        assert "self_excluded" in refused(dutch)
    with time_machine.travel(start + timedelta(days=198, hours=1), tick=False):
        assert "self_excluded" not in refused(dutch)


@pytest.mark.parametrize(("country", "currency", "term"), [("GB", "GBP", "1y"), ("MT", "EUR", "6m")])
def test_an_exclusion_follows_the_person_to_a_new_account(country, currency, term):
    player = PlayerFactory(country=country, currency=currency)
    services.self_exclude(actor=ACTOR, player=player, term=term)
    again = PlayerFactory(
        country=country,
        currency=currency,
        first_name=player.first_name,
        last_name=player.last_name,
        date_of_birth=player.date_of_birth,
    )
    assert again.identity_fingerprint == player.identity_fingerprint
    assert "self_excluded" in refused(again)


def test_the_database_refuses_to_shorten_or_delete_an_exclusion(player):
    exclusion = services.self_exclude(actor=ACTOR, player=player, term="1y")
    with pytest.raises(DatabaseError), transaction.atomic():
        Exclusion.objects.filter(pk=exclusion.pk).update(released_at=timezone.now() + timedelta(days=1))
    with pytest.raises(DatabaseError), transaction.atomic():
        Exclusion.objects.filter(pk=exclusion.pk).update(ends_at=timezone.now())
    with pytest.raises(DatabaseError), transaction.atomic():
        Exclusion.objects.filter(pk=exclusion.pk).delete()


@pytest.mark.parametrize(("country", "currency"), [("GB", "GBP"), ("MT", "EUR")])
def test_an_operator_block_needs_a_reason_and_a_second_person_to_lift(country, currency, support_agent, mlro):
    player = PlayerFactory(country=country, currency=currency)
    with pytest.raises(Exception) as exc:
        services.operator_exclude(actor=support_agent, player=player, reason=" ")
    assert exc.value.code == "reason_required"
    block = services.operator_exclude(
        actor=support_agent, player=player, reason="RG review: chasing losses", capabilities=["deposit"]
    )
    assert refused(player, "deposit") == ["operator_blocked"] and can(player, "bet").allowed
    services.operator_lift_request(actor=support_agent, exclusion=block, reason="reviewed, affordability ok")
    with pytest.raises(Exception) as exc:
        services.operator_lift_decide(actor=support_agent, exclusion=block, approve=True)
    assert exc.value.code == "same_approver"
    services.operator_lift_decide(actor=mlro, exclusion=block, approve=True)
    assert can(player, "deposit").allowed
    assert list(OutboxEvent.objects.filter(key=player.external_id).values_list("type", flat=True)) == [
        "player.blocked",
        "player.unblocked",
    ]


@pytest.mark.parametrize(("country", "currency"), [("GB", "GBP"), ("MT", "EUR")])
def test_a_correction_needs_two_staff_members_and_supersedes_the_row(country, currency, support_agent, mlro):
    player = PlayerFactory(country=country, currency=currency)
    wrong = services.self_exclude(actor=ACTOR, player=player, term="5y")
    with pytest.raises(Exception) as exc:  # a correction is a term the jurisdiction offered, not a shortcut
        services.exclusion_correction_request(actor=support_agent, exclusion=wrong, term="7d", reason="x")
    assert exc.value.code == "term_not_allowed"
    timeout = services.time_out(actor=ACTOR, player=PlayerFactory(country=country, currency=currency), hours=48)
    with pytest.raises(Exception) as exc:
        services.exclusion_correction_request(actor=support_agent, exclusion=timeout, term="1h", reason="x")
    assert exc.value.code == "term_not_allowed"
    correction = services.exclusion_correction_request(
        actor=support_agent, exclusion=wrong, term="1y", reason="keyed 5y"
    )
    with pytest.raises(Exception) as exc:
        services.exclusion_correction_decide(actor=support_agent, correction=correction, approve=True)
    assert exc.value.code == "same_approver"
    fixed = services.exclusion_correction_decide(actor=mlro, correction=correction, approve=True)
    wrong.refresh_from_db()
    assert wrong.superseded_by == fixed and fixed.term == "1y"
    assert "self_excluded" in refused(player)


def _refuse(code, fn, **kwargs):
    with pytest.raises(Exception) as exc:
        fn(**kwargs)
    assert exc.value.code == code


def test_a_correction_never_ends_a_gb_self_exclusion_whose_corrected_term_has_passed(support_agent, mlro):
    player = PlayerFactory(country="GB", currency="GBP")
    keyed = services.self_exclude(actor=ACTOR, player=player, term="5y")
    with time_machine.travel(timezone.now() + timedelta(days=400), tick=False):
        # the review's attack: "1y" from a start 13 months ago ends in the past
        _refuse(
            "correction_ends_in_past",
            services.exclusion_correction_request,
            actor=support_agent,
            exclusion=keyed,
            term="1y",
            reason="keyed 5y",
        )
        assert not keyed.corrections.exists()
        _refuse("exclusion_active", services.self_exclusion_return_request, actor=ACTOR, player=player)
        assert "self_excluded" in refused(player, "deposit")


def test_a_correction_is_checked_again_when_it_is_applied(support_agent, mlro):
    player = PlayerFactory(country="GB", currency="GBP")
    keyed = services.self_exclude(actor=ACTOR, player=player, term="5y")
    start = timezone.now()
    with time_machine.travel(start + timedelta(days=330), tick=False):
        correction = services.exclusion_correction_request(
            actor=support_agent, exclusion=keyed, term="1y", reason="keyed 5y"
        )
    assert correction.ends_at == term_end("1y", keyed.starts_at)
    with time_machine.travel(start + timedelta(days=370), tick=False):  # the checker comes back too late
        _refuse(
            "correction_ends_in_past",
            services.exclusion_correction_decide,
            actor=mlro,
            correction=correction,
            approve=True,
        )
        correction.refresh_from_db()
        keyed.refresh_from_db()
        assert correction.approved is None and keyed.superseded_by_id is None
        assert "self_excluded" in refused(player, "deposit")


@pytest.mark.parametrize(("country", "currency", "hours"), [("MT", "EUR", 24 * 30), ("GB", "GBP", 24 * 30)])
def test_a_correction_never_releases_a_time_out(country, currency, hours, support_agent, mlro):
    player = PlayerFactory(country=country, currency=currency)
    timeout = services.time_out(actor=ACTOR, player=player, hours=hours)
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        _refuse(
            "correction_ends_in_past",
            services.exclusion_correction_request,
            actor=support_agent,
            exclusion=timeout,
            term="24h",
            reason="keyed 30 days",
        )
        correction = services.exclusion_correction_request(
            actor=support_agent, exclusion=timeout, term="72h", reason="the player asked for three days"
        )
        fixed = services.exclusion_correction_decide(actor=mlro, correction=correction, approve=True)
        assert fixed.released_at == timeout.starts_at + timedelta(hours=72) > timezone.now()
        assert "timed_out" in refused(player, "bet")
    assert correction.ends_at == timeout.starts_at + timedelta(hours=72)


def test_operator_exclusions_are_lifted_not_corrected(support_agent):
    block = services.operator_exclude(actor=support_agent, player=PlayerFactory(), reason="fraud review")
    _refuse(
        "not_correctable",
        services.exclusion_correction_request,
        actor=support_agent,
        exclusion=block,
        term="1y",
        reason="x",
    )


def test_the_database_refuses_a_replacement_that_ends_a_self_exclusion(player):
    keyed = services.self_exclude(actor=ACTOR, player=player, term="5y")
    past = timezone.now() - timedelta(days=1)
    for ends_at, released_at in ((past, None), (None, past), (timezone.now() + timedelta(days=9), past)):
        with pytest.raises(DatabaseError), transaction.atomic():
            replacement = Exclusion.objects.create(
                player=player,
                identity_fingerprint=keyed.identity_fingerprint,
                kind=keyed.kind,
                term="1y",
                starts_at=keyed.starts_at,
                ends_at=ends_at,
                released_at=released_at,
            )
            Exclusion.objects.filter(pk=keyed.pk).update(superseded_by=replacement)
    assert "self_excluded" in refused(player, "deposit")
