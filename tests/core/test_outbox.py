from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.api.services import api_client_set_webhook
from apps.audit.services import SystemActor
from apps.core import outbox
from apps.core.models import OutboxDelivery, OutboxEvent
from apps.responsible import services
from tests.conftest import make_platform_client

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("tests")


class Receiver:
    """A platform's webhook endpoint on loopback: answers ``fail_next`` requests with 500, then 204."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        self.delay = 0.0  # a slow receiver: seconds between reading the request and answering
        self.while_slow: Any = None  # called during that delay (what the database looks like meanwhile)
        self.got_one = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail_next:
                    receiver.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.received.append((dict(self.headers.items()), body))
                receiver.got_one.set()
                if receiver.delay:
                    if receiver.while_slow is not None:
                        receiver.while_slow()
                    time.sleep(receiver.delay)
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/pitboss"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def subscriber(receiver):
    client = make_platform_client()
    return api_client_set_webhook(actor=ACTOR, client=client.model, url=receiver.url)


def test_an_exclusion_reaches_the_platform_signed(player, receiver, subscriber):
    services.self_exclude(actor=ACTOR, player=player, term="1y")
    assert outbox.deliver_due() == 1
    headers, body = receiver.received[0]
    signed = hmac.new(
        subscriber.webhook_secret.encode(), headers["X-Pitboss-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Pitboss-Signature"] == f"sha256={signed}"
    event = json.loads(body)
    assert (event["type"], event["player"], event["data"]["term"]) == ("player.self_excluded", player.external_id, "1y")
    assert OutboxDelivery.objects.get().status == "delivered"


def test_a_receiver_outage_is_retried_with_backoff_in_order_and_nothing_is_lost(player, receiver, subscriber, settings):
    settings.OUTBOX_BACKOFF_SECONDS = 10
    receiver.fail_next = 2
    services.time_out(actor=ACTOR, player=player, hours=24)
    services.limit_set(actor=ACTOR, player=player, kind="deposit", period="day", value="50.00")
    assert outbox.deliver_due() == 1  # the first fails; the second waits behind it (per-player order)
    first = OutboxDelivery.objects.order_by("id").first()
    assert (first.status, first.attempts, first.last_status) == ("pending", 1, 500)
    assert outbox.deliver_due() == 0  # not due yet
    now = timezone.now()
    with time_machine.travel(now + timedelta(seconds=11), tick=False):
        outbox.deliver_due()  # fails again: next try in 20 s
    with time_machine.travel(now + timedelta(seconds=40), tick=False):
        assert outbox.deliver_due() == 2
    assert [json.loads(b)["type"] for _, b in receiver.received] == ["player.timed_out", "limits.changed"]


def test_a_delivery_dies_after_the_last_attempt_and_staff_can_redeliver(player, receiver, subscriber, settings, mlro):
    settings.OUTBOX_MAX_ATTEMPTS, settings.OUTBOX_BACKOFF_SECONDS = 2, 0
    receiver.fail_next = 5
    services.time_out(actor=ACTOR, player=player, hours=24)
    outbox.deliver_due()
    dead = OutboxDelivery.objects.get()
    assert (dead.status, dead.attempts) == ("dead", 2)
    receiver.fail_next = 0
    outbox.outbox_redeliver(actor=mlro, delivery=dead)
    outbox.deliver_due()
    assert OutboxDelivery.objects.get().status == "delivered" and len(receiver.received) == 1


def test_events_are_written_with_the_change_or_not_at_all(player, subscriber):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.time_out(actor=ACTOR, player=player, hours=24)
        raise RuntimeError("the change fails after the event was written")
    assert not OutboxEvent.objects.exists()
    event = outbox.outbox_emit("player.blocked", key=player.external_id, data={})
    with pytest.raises(DatabaseError), transaction.atomic():
        OutboxEvent.objects.filter(pk=event.pk).update(type="changed")


def test_the_admin_redelivers_a_dead_delivery(staff_client, admin_user, player, subscriber, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    subscriber.webhook_url = "http://127.0.0.1:9/nothing-listens-here"
    subscriber.save(update_fields=["webhook_url"])
    services.time_out(actor=ACTOR, player=player, hours=24)
    outbox.deliver_due()
    dead = OutboxDelivery.objects.get(status="dead")
    client = staff_client(admin_user)
    r = client.post("/admin/core/outboxdelivery/", {"action": "redeliver", "_selected_action": [dead.pk]}, follow=True)
    assert r.status_code == 200
    assert OutboxDelivery.objects.get(pk=dead.pk).status == "pending"


def test_the_command_delivers_what_is_due(player, receiver, subscriber):
    from io import StringIO

    from django.core.management import call_command

    services.time_out(actor=ACTOR, player=player, hours=24)
    out = StringIO()
    call_command("outbox_deliver", stdout=out)
    assert "1 delivery attempt" in out.getvalue() and len(receiver.received) == 1


@pytest.fixture
def broker_down():
    """The broker (Redis) unreachable: the Celery app pointed at a loopback port nothing listens on."""
    from backoffice.celery import app

    app.conf.broker_write_url = "redis://127.0.0.1:9/1"  # the nudge opens its own connection from this
    yield
    app.conf.broker_write_url = None


def test_an_event_written_while_redis_is_down_is_delivered_by_the_sweep(
    player, receiver, subscriber, broker_down, django_capture_on_commit_callbacks, caplog
):
    from apps.core.tasks import outbox_deliver

    with django_capture_on_commit_callbacks(execute=True):
        services.self_exclude(actor=ACTOR, player=player, term="1y")  # commits; the nudge cannot reach Redis
    assert "could not enqueue delivery" in caplog.text
    assert OutboxDelivery.objects.get().status == "pending" and not receiver.received
    outbox_deliver.apply()  # the beat's once-a-minute sweep, once Redis is back
    assert json.loads(receiver.received[0][1])["type"] == "player.self_excluded"
    assert OutboxDelivery.objects.get().status == "delivered"


def test_with_redis_up_the_change_nudges_a_worker_through_the_real_broker(player, subscriber):
    import redis
    from django.conf import settings

    from apps.core.tasks import outbox_deliver

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue = outbox_deliver.app.amqp.router.route({}, outbox.OUTBOX_TASK)["queue"].name
    task_id = outbox._nudge()
    sent = [m for m in broker.lrange(queue, 0, -1) if json.loads(m)["headers"]["id"] == task_id]
    assert len(sent) == 1 and json.loads(sent[0])["headers"]["task"] == outbox.OUTBOX_TASK
    broker.lrem(queue, 1, sent[0])  # no worker runs in the tests: leave the broker as found


def test_staff_blocks_on_the_player_page_reach_the_platform_without_their_reasons(
    player, receiver, subscriber, mlro, aml_analyst
):
    from apps.players.services import player_set_block, player_set_status

    player_set_block(actor=mlro, player=player, capability="deposit", blocked=True, reason="SAR pending review")
    player_set_status(actor=mlro, player=player, status="suspended", reason="source of funds")
    player_set_status(actor=mlro, player=player, status="active", reason="documents received")  # asks
    player_set_status(actor=aml_analyst, player=player, status="active", reason="confirmed")  # a second person
    assert outbox.deliver_due() == 3
    events = [json.loads(body) for _, body in receiver.received]
    assert [(e["type"], e["data"].get("status"), e["data"].get("capabilities")) for e in events] == [
        ("player.blocked", None, ["deposit"]),
        ("player.blocked", "suspended", None),
        ("player.unblocked", "active", None),
    ]
    assert not any("SAR" in body.decode() or "funds" in body.decode() for _, body in receiver.received)


def _connect_as_the_suite() -> Any:
    """A second connection to the test database (not Django's): to look at our backend from outside."""
    import psycopg
    from django.db import connection

    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None, host=db["HOST"], port=db["PORT"] or 5432
    )


def _our_backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_no_transaction_or_row_lock_is_held_while_a_slow_receiver_answers(geo_rules, player, receiver, subscriber):
    services.time_out(actor=ACTOR, player=player, hours=24)  # committed: autocommit in this test
    pid = _our_backend_pid()
    seen: list[Any] = []

    def look() -> None:
        with _connect_as_the_suite() as other:
            state = other.execute("SELECT state, xact_start FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
            locks = other.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = %s AND relation = 'core_outboxdelivery'::regclass", [pid]
            ).fetchone()
            seen.append((*state, locks[0]))

    receiver.delay, receiver.while_slow = 1.0, look
    assert outbox.deliver_due() == 1
    assert seen == [("idle", None, 0)]  # not "idle in transaction": the claim was committed before the POST
    delivery = OutboxDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.claimed_by, delivery.claimed_until) == (
        "delivered",
        1,
        "",
        None,
    )


@pytest.mark.django_db(transaction=True)
def test_a_sender_killed_mid_delivery_leaves_a_lease_then_it_is_sent_again_and_the_order_holds(
    geo_rules, player, receiver, subscriber
):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings as django_settings
    from django.db import connection

    services.time_out(actor=ACTOR, player=player, hours=24)
    services.limit_set(actor=ACTOR, player=player, kind="deposit", period="day", value="50.00")
    first_event, second_event = OutboxEvent.objects.order_by("id")
    receiver.delay = 60.0  # the first POST hangs until the sender is killed
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
    }
    root = Path(__file__).resolve().parents[2]
    sender = subprocess.Popen([sys.executable, "manage.py", "outbox_deliver"], cwd=root, env=env)
    try:
        assert receiver.got_one.wait(30), "the sender never reached the receiver"
    finally:
        sender.kill()  # SIGKILL mid-delivery: no result recorded, no clean-up
        sender.wait()
    first, second = OutboxDelivery.objects.order_by("id")
    assert (first.status, first.attempts, second.attempts) == ("pending", 1, 0)
    assert first.claimed_by and first.claimed_until is not None and first.claimed_until > timezone.now()
    receiver.delay = 0.0
    assert outbox.deliver_due() == 0  # the lease holds: nobody sends it, and the second waits behind it
    with time_machine.travel(first.claimed_until + timedelta(seconds=1), tick=False):
        assert outbox.deliver_due() == 2
    ids = [int(headers["X-Pitboss-Event-Id"]) for headers, _ in receiver.received]
    assert ids == [first_event.pk, first_event.pk, second_event.pk]  # at least once, and in order
    first.refresh_from_db()
    assert (first.status, first.attempts) == ("delivered", 2)


def test_a_delivery_whose_senders_keep_dying_is_dead_after_the_last_attempt(player, receiver, subscriber, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    services.time_out(actor=ACTOR, player=player, hours=24)
    for _ in range(2):  # two senders claimed it and died before recording anything
        claimed = outbox.claim_next()
        assert claimed is not None
        OutboxDelivery.objects.filter(pk=claimed[0].pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert outbox.deliver_due() == 1
    dead = OutboxDelivery.objects.get()
    assert (dead.status, dead.attempts, receiver.received) == ("dead", 3, [])
    assert "attempts exhausted" in dead.last_error


def test_a_result_that_comes_after_the_lease_was_taken_over_is_not_recorded(player, receiver, subscriber, caplog):
    services.time_out(actor=ACTOR, player=player, hours=24)
    slow = outbox.claim_next()
    assert slow is not None
    OutboxDelivery.objects.filter(pk=slow[0].pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert outbox.deliver_due() == 1  # a second sender took the lapsed lease and delivered
    outbox._record(slow[0], slow[1], 500, "HTTP 500")  # the first one's late answer
    assert OutboxDelivery.objects.get().status == "delivered"
    assert "the lease ran out" in caplog.text


def test_a_nudge_with_the_broker_unreachable_tries_once_and_gives_up():
    """send_fail_fast (the outbox's and the posting events' nudges) makes one connection attempt: kombu's default
    reconnecting held a request, and its web worker, ~6 s per nudge while the broker was down."""
    import socket
    import threading

    from backoffice.celery import app

    server = socket.create_server(("127.0.0.1", 0))
    attempts: list[int] = []

    def refuse() -> None:  # accepts and hangs up at once: a broker that is not there
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            attempts.append(1)
            conn.close()

    threading.Thread(target=refuse, daemon=True).start()
    url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    old = app.conf.broker_write_url, app.conf.broker_url
    app.conf.broker_write_url = app.conf.broker_url = url
    try:
        assert outbox.send_fail_fast(outbox.OUTBOX_TASK) is None
        assert outbox.send_fail_fast("apps.wallet.tasks.posting_events_drain", queue="compliance") is None
    finally:
        app.conf.broker_write_url, app.conf.broker_url = old
        server.close()
    assert len(attempts) == 2  # one per nudge


def test_many_events_at_once_reach_the_same_subscribers_as_one_at_a_time_with_one_nudge(
    player, subscriber, django_capture_on_commit_callbacks
):
    from apps.core.models import OutboxDelivery, OutboxEvent

    with django_capture_on_commit_callbacks() as callbacks:
        outbox.outbox_emit("bonus.awarded", key=player.external_id, data={"n": 0})
        outbox.outbox_emit_many(
            "bonus.awarded", [(player.external_id, {"n": 1}), ("P-nobody", {"n": 2}), (player.external_id, {"n": 3})]
        )
    assert len(callbacks) == 1  # one nudge for the transaction, not one per event
    events = list(OutboxEvent.objects.order_by("id").values_list("key", "data"))
    assert [data["n"] for _, data in events] == [0, 1, 2, 3]
    delivered = sorted(OutboxDelivery.objects.values_list("event__data__n", "subscriber"))
    assert delivered == [(0, subscriber.prefix), (1, subscriber.prefix), (3, subscriber.prefix)]
