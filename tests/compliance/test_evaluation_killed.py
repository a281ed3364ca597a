"""A worker killed in the middle of evaluating the rules: no event lost, none evaluated twice into two alerts."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from apps.compliance import alerts, evaluation, seeds
from apps.compliance.models import Alert, Case, RuleHit
from apps.wallet import events, posting
from apps.wallet.models import PostingQueueItem
from tests.dbroles import as_owner
from tests.factories import PlayerFactory

D = Decimal


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_during_evaluation_loses_no_event_and_raises_each_alert_once(
    geo_rules, role_groups, monkeypatch
):
    seeds.install()  # an earlier transactional test flushed the migration's rules
    player = PlayerFactory()
    for _ in range(3):  # GBP 2,700 in 24 h: amount-24h (EUR 2,000) from the second, deposits-24h-high at the third
        posting.wallet_deposit(player=player, amount=D("900.00"), currency="GBP")
    assert PostingQueueItem.objects.filter(consumer=evaluation.CONSUMER, player_id=player.pk).count() == 3

    inside, pid, outcome = threading.Event(), [], []
    real_raise = alerts.alert_raise

    def dies_after_the_first_alert(**kwargs):  # type: ignore[no-untyped-def]
        alert = real_raise(**kwargs)
        if not pid:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid.append(cursor.fetchone()[0])
            inside.set()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(10)")  # the worker dies here, its alert written, not committed
        return alert

    monkeypatch.setattr(alerts, "alert_raise", dies_after_the_first_alert)

    def worker() -> None:
        try:
            events.drain(evaluation.CONSUMER)
        except BaseException as exc:
            outcome.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(15)
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid[0]])
    thread.join(20)
    assert outcome, "the killed worker's transaction failed"
    assert not Alert.objects.exists() and not Case.objects.exists() and not RuleHit.objects.exists()
    assert PostingQueueItem.objects.filter(consumer=evaluation.CONSUMER, player_id=player.pk).count() == 3

    monkeypatch.setattr(alerts, "alert_raise", real_raise)
    assert events.drain(evaluation.CONSUMER).processed == 3  # the next worker, from the same events
    assert events.drain(evaluation.CONSUMER).processed == 0
    raised = {a.rule.code: a for a in Alert.objects.select_related("rule")}
    assert set(raised) == {"amount-24h", "deposits-24h-high"}
    assert raised["amount-24h"].hit_count == 2 and raised["deposits-24h-high"].hit_count == 1
    assert Case.objects.count() == 1  # both are AML alerts: one case
    assert RuleHit.objects.count() == 3
