"""Evaluation: the rules' posting consumer and the sweep. Live versions raise alerts that open or join a case,
shadow versions record hits only, snoozes keep a rule quiet for a player until they end, alerts are deduplicated
per (rule, player, window) also under concurrent workers, and bets never reach the rules."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.bonuses.models import BonusFlag
from apps.compliance import alerts, evaluation, kinds
from apps.compliance.choices import CaseSource, VersionMode, VersionState
from apps.compliance.models import Alert, Case, CaseTransaction, RuleHit, RuleSnooze, RuleVersion
from apps.wallet import events
from apps.wallet.models import PostingQueueItem
from tests.compliance.conftest import bet, deposit, drain, gbp, hits, login, publish
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.usefixtures("no_seed_rules")
D = Decimal
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
AMOUNT = {"amount": gbp("100.00"), "window": "24h"}


def make_player():
    return PlayerFactory(kyc_level=3)


def test_a_live_hit_raises_an_alert_that_opens_a_case_with_the_evidence(db, at):
    version = publish("amount_window", AMOUNT, score=70)
    at(T0)
    player = make_player()
    first = deposit(player, "60.00")
    second = deposit(player, "40.00")
    drain()
    alert = Alert.objects.get(rule=version.rule)
    assert (alert.version, alert.player, alert.score, alert.hit_count) == (version, player, 70, 1)
    assert alert.window_key == "24h@2026-11-02T00:00Z"
    assert alert.evidence["deposits"] == "100.00 GBP"
    assert alert.case is not None and alert.case.source == CaseSource.ALERT and alert.case.player == player
    assert set(CaseTransaction.objects.filter(case=alert.case).values_list("transaction_id", flat=True)) == {
        first,
        second,
    }
    hit = RuleHit.objects.get(version=version)
    assert (hit.alert, hit.shadow, hit.transaction_id) == (alert, False, second)
    event = AuditEvent.objects.get(action="compliance.alert_raised")
    assert event.target_id == str(alert.pk) and event.actor_name == "compliance rules"
    assert event.data["rule"] == version.rule.code and event.data["case"] == alert.case.pk


def test_a_shadow_version_records_hits_but_raises_no_alert(db, at):
    version = publish("amount_window", AMOUNT, mode=VersionMode.SHADOW)
    at(T0)
    player = make_player()
    deposit(player, "150.00")
    drain()
    assert [(h.shadow, h.alert) for h in hits(version)] == [(True, None)]
    assert not Alert.objects.exists() and not Case.objects.exists()


def test_a_shadow_version_runs_beside_the_live_one(db, at):
    live = publish("amount_window", AMOUNT)
    shadow = publish(
        "amount_window", {"amount": gbp("50.00"), "window": "24h"}, mode=VersionMode.SHADOW, rule=live.rule
    )
    at(T0)
    player = make_player()
    deposit(player, "60.00")  # the shadow's lower threshold only
    deposit(player, "60.00")  # both
    drain()
    assert len(hits(shadow)) == 2 and len(hits(live)) == 1
    assert Alert.objects.get().version == live  # the shadow's hits never become alerts


def test_a_snoozed_rule_stays_quiet_for_that_player_until_the_snooze_ends(db, at):
    version = publish("amount_window", AMOUNT)
    other_version = publish("amount_window", AMOUNT)
    at(T0)
    player, other = make_player(), make_player()
    RuleSnooze.objects.create(
        rule=version.rule,
        player=player,
        reason="Known salary pattern",
        until=T0 + timedelta(days=1),
        created_by=StaffUserFactory(),
    )
    deposit(player, "150.00")
    deposit(other, "150.00")
    drain()
    assert hits(version, player) == [] and len(hits(version, other)) == 1  # the other player is not snoozed
    assert len(hits(other_version, player)) == 1  # nor the other rule
    at(T0 + timedelta(days=1))  # the snooze has ended
    deposit(player, "150.00")
    drain()
    assert len(hits(version, player)) == 1


def test_a_lifted_snooze_no_longer_keeps_the_rule_quiet(db, at):
    version = publish("amount_window", AMOUNT)
    at(T0)
    player = make_player()
    staff = StaffUserFactory()
    RuleSnooze.objects.create(
        rule=version.rule,
        player=player,
        reason="Known",
        until=T0 + timedelta(days=30),
        created_by=staff,
        lifted_at=T0,
        lifted_by=staff,
    )
    deposit(player, "150.00")
    drain()
    assert len(hits(version, player)) == 1


def test_two_hits_in_one_window_make_one_alert_and_the_next_window_another(db, at):
    version = publish("amount_window", AMOUNT)
    at(T0)
    player = make_player()
    deposit(player, "100.00")
    at(T0 + timedelta(hours=5))
    deposit(player, "10.00")
    drain()
    alert = Alert.objects.get()
    assert alert.hit_count == 2 and alert.last_hit_at == T0 + timedelta(hours=5)
    assert alert.evidence["deposits"] == "100.00 GBP"  # the first hit's evidence is kept
    assert [h.alert_id for h in hits(version)] == [alert.pk, alert.pk]
    assert AuditEvent.objects.filter(action="compliance.alert_raised").count() == 1  # repeats are counted only
    at(T0 + timedelta(hours=15))  # 3 November, 01:00 UTC: the next 24 h slice
    deposit(player, "10.00")
    drain()
    second = Alert.objects.exclude(pk=alert.pk).get()
    assert second.window_key == "24h@2026-11-03T00:00Z"
    assert second.case == alert.case  # the player's open AML case takes it


def test_an_alert_names_the_version_that_fired(db, at):
    v1 = publish("amount_window", AMOUNT)
    at(T0)
    player = make_player()
    deposit(player, "100.00")
    drain()
    RuleVersion.objects.filter(pk=v1.pk).update(state=VersionState.RETIRED, retired_at=timezone.now())
    v2 = publish("amount_window", {"amount": gbp("200.00"), "window": "24h"}, rule=v1.rule)
    deposit(player, "100.00")  # same slice: v2's hit adds to v1's alert
    at(T0 + timedelta(days=1))
    deposit(player, "250.00")  # next slice: v2's own alert
    drain()
    first, second = Alert.objects.filter(rule=v1.rule).order_by("id")
    assert (first.version, first.hit_count) == (v1, 2)
    assert [h.version for h in RuleHit.objects.filter(alert=first).order_by("id")] == [v1, v2]
    assert (second.version, second.hit_count) == (v2, 1)


def test_a_publication_or_retirement_reaches_the_next_batch_without_any_invalidation(db, at):
    at(T0)
    player = make_player()
    deposit(player, "150.00")
    drain()  # loads the published set: none
    version = publish("amount_window", AMOUNT)
    deposit(player, "1.00")
    drain()
    assert len(hits(version)) == 1
    RuleVersion.objects.filter(pk=version.pk).update(state=VersionState.RETIRED, retired_at=timezone.now())
    deposit(player, "1.00")
    drain()
    assert len(hits(version)) == 1


def test_bets_are_never_queued_for_the_rules(db, at):
    publish("amount_window", AMOUNT)
    at(T0)
    player = make_player()
    deposit(player, "20.00")
    assert evaluation.CONSUMER not in events.consumers_for("bet")
    queued = PostingQueueItem.objects.filter(consumer=evaluation.CONSUMER)
    assert queued.count() == 1
    for _ in range(5):
        bet(player, "1.00")
    assert queued.count() == 1
    assert drain().processed == 1


def test_a_batch_without_published_rules_for_its_types_costs_one_query(db, at):
    at(T0)
    player = make_player()
    deposit(player, "20.00")
    drain()  # warm the published set
    deposit(player, "20.00")
    event = events.PostingEvent(
        transaction_id=1,
        type="deposit",
        player_id=player.pk,
        currency="GBP",
        amount=D("20"),
        cash_part=D("20"),
        bonus_part=D("0"),
        game_id="",
        game_category="",
        provider="",
        round_id="",
        payment_method="",
        instrument_fingerprint="",
        api_client="",
        reverses_id=None,
        created_at=T0,
    )
    with CaptureQueriesContext(connections["default"]) as queries:
        evaluation.handle([event])
    assert len(queries) == 1  # the player, their snoozes and the set of published version ids, in one statement


@pytest.fixture
def unavailable(monkeypatch):
    """A kind whose source does not exist yet (``Kind.available``): every kind ships available, so one is made so."""

    def make(code: str) -> None:
        monkeypatch.setitem(kinds.KINDS, code, replace(kinds.KINDS[code], available=False))

    return make


def test_an_unavailable_kind_is_never_evaluated_even_if_published(db, at, unavailable):
    unavailable("amount_window")
    unavailable("bonus_abuse")
    version = publish("amount_window", AMOUNT)
    swept = publish("bonus_abuse", {})
    at(T0)
    player = make_player()
    deposit(player, "200.00")
    BonusFlag.objects.create(player=player, kind="one_game", evidence={}, created_at=T0)
    drain()
    assert evaluation.sweep(now=T0, since=T0 - timedelta(minutes=1))["hits"] == 0
    loaded = [item.version.pk for items in evaluation.published().by_type.values() for item in items]
    assert version.pk not in loaded and swept.pk not in [item.version.pk for item in evaluation.published().sweep]
    assert hits(version) == [] and hits(swept) == []


# --- concurrency ----------------------------------------------------------------------------------------------


def _in_threads(count, target):
    barrier, errors = threading.Barrier(count), []

    def run():
        try:
            barrier.wait(10)
            target()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


@pytest.fixture
def restored(transactional_db, geo_rules, role_groups):
    """For transactional tests: the compliance defaults (inbox, SLA policies) an earlier flush took away."""
    import importlib

    from django.apps import apps as django_apps

    importlib.import_module("apps.compliance.migrations.0002_defaults_and_roles").forwards(django_apps, None)
    RuleVersion.objects.filter(state=VersionState.PUBLISHED).update(
        state=VersionState.RETIRED, retired_at=timezone.now()
    )


def test_two_workers_raising_the_same_hit_at_once_make_one_alert(restored):
    version = publish("amount_window", AMOUNT)
    player = make_player()
    hit = kinds.Hit(window_key="24h@2026-11-02T00:00Z", evidence={"transactions": []})
    errors = _in_threads(2, lambda: alerts.alert_raise(version=version, player=player.pk, hit=hit))
    assert errors == []
    alert = Alert.objects.get()
    assert alert.hit_count == 2
    assert RuleHit.objects.filter(alert=alert).count() == 2
    assert Case.objects.count() == 1
    assert AuditEvent.objects.filter(action="compliance.alert_raised").count() == 1


def test_concurrent_drains_make_one_alert_per_player_and_window(restored):
    version = publish("amount_window", AMOUNT)
    players = [make_player() for _ in range(4)]
    for player in players:
        for _ in range(3):
            deposit(player, "100.00")
    errors = _in_threads(3, lambda: events.drain(evaluation.CONSUMER, players=1, per_player=1))
    assert errors == []
    assert not PostingQueueItem.objects.filter(consumer=evaluation.CONSUMER).exists()
    assert sorted(Alert.objects.values_list("player_id", "hit_count")) == [(p.pk, 3) for p in players]
    assert RuleHit.objects.filter(version=version).count() == 12
    assert Case.objects.count() == 4


# --- the sweep ------------------------------------------------------------------------------------------------


def test_the_sweep_resumes_where_the_last_one_stopped(db, at):
    version = publish("country_mismatch", {"residence_mismatch": True}, mode=VersionMode.SHADOW)
    at(T0)
    player = make_player()
    login(player, country="FR")
    first = evaluation.sweep(now=T0 + timedelta(seconds=1))  # no cursor yet: the last 15 minutes
    assert first == {"players": 1, "hits": 1, "failed": 0, "skipped": 0}
    again = evaluation.sweep(now=T0 + timedelta(minutes=10))  # nothing new since the first sweep
    assert again == {"players": 0, "hits": 0, "failed": 0, "skipped": 0}
    at(T0 + timedelta(minutes=12))
    deposit(player, "5.00")  # a deposit without a payment instrument changes nothing the sweep kinds read
    assert evaluation.sweep(now=T0 + timedelta(minutes=15))["players"] == 0
    at(T0 + timedelta(minutes=16))
    deposit(player, "5.00", instrument="card-1")  # a deposit with a card brings the player back
    assert evaluation.sweep(now=T0 + timedelta(minutes=20))["players"] == 1
    assert len(hits(version, player)) == 2  # the same month's country: one alert would collect both


def test_the_sweep_raises_live_alerts_and_respects_snoozes(db, at):
    version = publish("country_mismatch", {"residence_mismatch": True})
    at(T0)
    player, snoozed = make_player(), make_player()
    RuleSnooze.objects.create(
        rule=version.rule,
        player=snoozed,
        reason="Lives abroad",
        until=T0 + timedelta(days=9),
        created_by=StaffUserFactory(),
    )
    login(player, country="ES")
    login(snoozed, country="ES")
    evaluation.sweep(now=T0, since=T0 - timedelta(minutes=1))
    evaluation.sweep(now=T0 + timedelta(minutes=1), since=T0 - timedelta(minutes=1))
    alert = Alert.objects.get()
    assert (alert.player, alert.window_key, alert.hit_count) == (player, "ip:ES@2026-11", 2)


def test_the_sweep_does_nothing_without_sweep_rules(db, at):
    publish("amount_window", AMOUNT)
    at(T0)
    login(make_player(), country="FR")
    swept = evaluation.sweep(now=T0, since=T0 - timedelta(minutes=1))
    assert swept == {"players": 0, "hits": 0, "failed": 0, "skipped": 0}


def test_one_sweep_runs_at_a_time(db, at):
    version = publish("country_mismatch", {"residence_mismatch": True}, mode=VersionMode.SHADOW)
    at(T0)
    login(make_player(), country="FR")
    other = connections.create_connection("default")  # another worker's session, sweeping now
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", evaluation.SWEEP_LOCK)
        skipped = evaluation.sweep(now=T0, since=T0 - timedelta(minutes=1))
        assert skipped == {"players": 0, "hits": 0, "failed": 0, "skipped": 1} and hits(version) == []
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", evaluation.SWEEP_LOCK)
    finally:
        other.close()
    assert evaluation.sweep(now=T0, since=T0 - timedelta(minutes=1))["players"] == 1
    assert len(hits(version)) == 1


def test_the_bonus_engines_flags_reach_the_sweep_and_the_alert_joins_the_fraud_case(db, at):
    """A flag raised by the bonus engine (``raise_flag``: its hook opens the player's fraud case) brings the player
    to the next sweep with no login or deposit; a live bonus-abuse rule's alert joins that case, at its priority."""
    from apps.bonuses.flags import raise_flag

    version = publish("bonus_abuse", {"count": 2, "window": "30d"}, case_type="fraud", priority="high")
    at(T0)
    player, other = make_player(), make_player()
    raise_flag(None, player.pk, "shared_device", others=[other.pk], evidence={"device_id": ["dev-1"]})
    case = Case.objects.get(player=player)
    assert (case.type, case.source, case.priority) == ("fraud", CaseSource.BONUS_ABUSE, "medium")
    assert evaluation.sweep(now=T0 + timedelta(minutes=1), since=T0 - timedelta(minutes=9))["hits"] == 0  # 1 of 2
    at(T0 + timedelta(minutes=8))
    second = raise_flag(None, player.pk, "claim_velocity", others=[], evidence={"bonuses": 3})
    assert second is not None
    # a sweep that stopped after the flag was stamped (it committed later) is overlapped by the next one
    assert evaluation.sweep(now=T0 + timedelta(minutes=20), since=T0 + timedelta(minutes=10))["hits"] == 1
    alert = Alert.objects.get(rule_id=version.rule_id)
    assert (alert.player_id, alert.window_key, alert.case_id) == (player.pk, f"bonus_flag:{second.pk}", case.pk)
    assert alert.evidence["flag_count"] == 2 and alert.evidence["other_players"] == [other.pk]
    case.refresh_from_db()
    assert case.priority == "high"  # the rule's priority, more urgent than the flags' own
    assert Case.objects.filter(player=player).count() == 1
