from __future__ import annotations

import contextlib
import threading
import time
import uuid
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import transaction

from apps.core.tasks import ping
from backoffice.celery import app


def _queue_length(queue: str) -> int:
    return int(redis.Redis.from_url(settings.CELERY_BROKER_URL).llen(queue))


def _drop(queue: str) -> None:
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)


def test_the_app_has_the_three_queues_and_json_only():
    assert {q.name for q in app.conf.task_queues} == {"default", "compliance", "reports"}
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit
    assert app.conf.task_routes["apps.audit.tasks.*"] == {"queue": "compliance"}


@pytest.mark.django_db
def test_a_task_sent_inside_a_transaction_is_enqueued_only_after_commit(django_capture_on_commit_callbacks):
    queue = f"test-{uuid.uuid4().hex}"
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            result = ping.apply_async(queue=queue)
            assert result.id  # the caller can follow the task already
            assert _queue_length(queue) == 0  # nothing reached the broker yet
        assert len(callbacks) == 1
        assert _queue_length(queue) == 1
    finally:
        _drop(queue)


@pytest.mark.django_db
def test_a_task_sent_inside_a_rolled_back_transaction_is_never_enqueued(django_capture_on_commit_callbacks):
    queue = f"test-{uuid.uuid4().hex}"
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            ping.apply_async(queue=queue)
            raise RuntimeError
        assert _queue_length(queue) == 0
    finally:
        _drop(queue)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_consumes_a_task_from_redis():
    from celery.contrib.testing.worker import start_worker

    queue = f"test-{uuid.uuid4().hex}"  # private queue: another xdist worker's tests never take our task
    try:
        with start_worker(app, queues=[queue], pool="solo", perform_ping_check=False, shutdown_timeout=10):
            result = ping.apply_async(args=["hello"], queue=queue)
            assert result.get(timeout=30) == "hello"
        from django_celery_results.models import TaskResult

        assert TaskResult.objects.get(task_id=result.id).status == "SUCCESS"
    finally:
        _drop(queue)


@pytest.mark.django_db
def test_install_schedule_is_idempotent_and_keeps_staff_changes():
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    from backoffice.schedule import SCHEDULE

    call_command("install_schedule")
    assert PeriodicTask.objects.filter(name__in=[e.name for e in SCHEDULE]).count() == len(SCHEDULE)
    verify = PeriodicTask.objects.get(task="apps.audit.tasks.audit_verify_chain")
    assert verify.queue == "compliance"
    verify.enabled = False  # staff paused it in the admin
    verify.save()
    call_command("install_schedule")
    assert PeriodicTask.objects.get(pk=verify.pk).enabled is False
    assert PeriodicTask.objects.filter(name__in=[e.name for e in SCHEDULE]).count() == len(SCHEDULE)
    call_command("install_schedule", "--reset")
    assert PeriodicTask.objects.get(pk=verify.pk).enabled is True


@pytest.mark.django_db
def test_the_nightly_chain_check_reports_a_broken_chain():
    from django.db import connection

    from apps.audit.services import audit_log
    from apps.audit.tasks import audit_verify_chain
    from tests.dbroles import as_owner

    first = audit_log(actor=None, action="test.one")
    audit_log(actor=None, action="test.two")
    assert audit_verify_chain().items() >= {"ok": True, "checked": 2, "first_broken_id": None}.items()
    with as_owner(), connection.cursor() as cursor:  # tampering needs the table owner's rights
        cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
        cursor.execute("UPDATE audit_event SET actor_name = 'someone else' WHERE id = %s", [first.pk])
        cursor.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")
    assert audit_verify_chain()["first_broken_id"] == first.pk


def test_every_task_is_bounded_below_the_visibility_timeout():
    from apps.core.tasks import task_limit_problems

    assert app.conf.broker_transport_options["visibility_timeout"] == 300  # minutes, not the hour it used to be
    assert task_limit_problems(app) == []
    longest = max(task.time_limit or app.conf.task_time_limit for task in app.tasks.values())
    assert longest < 300


def test_a_task_that_could_outlive_the_visibility_timeout_is_named(monkeypatch):
    from apps.core.tasks import task_limit_problems

    monkeypatch.setitem(app.conf.broker_transport_options, "visibility_timeout", 200)
    assert task_limit_problems(app) == [
        "apps.audit.tasks.audit_verify_chain: its hard time limit (240 s) is not below CELERY_VISIBILITY_TIMEOUT "
        "(200 s)",
    ]
    monkeypatch.setattr(app.tasks["apps.core.tasks.ping"], "soft_time_limit", 120)
    assert "apps.core.tasks.ping: the soft time limit (120 s) must be set and below the hard one (90 s)" in (
        task_limit_problems(app)
    )


def test_a_worker_refuses_to_start_with_a_task_longer_than_the_visibility_timeout(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from backoffice.celery import refuse_unbounded_tasks

    refuse_unbounded_tasks()  # as configured: starts
    monkeypatch.setitem(app.conf.broker_transport_options, "visibility_timeout", 200)
    with pytest.raises(ImproperlyConfigured, match="audit_verify_chain: its hard time limit"):
        refuse_unbounded_tasks()


def test_the_settings_refuse_a_visibility_timeout_below_the_task_time_limit():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "CELERY_VISIBILITY_TIMEOUT": "60", "CELERY_TASK_TIME_LIMIT": "90"}
    done = subprocess.run(
        [sys.executable, "-c", "import backoffice.settings.test"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "CELERY_VISIBILITY_TIMEOUT: 60 s must exceed CELERY_TASK_TIME_LIMIT" in done.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_server(port: int, folder: Any) -> Any:
    import shutil
    import subprocess

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: the broker blip test needs a private one")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return server
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_survives_a_redis_blip_while_tasks_are_in_flight(tmp_path):
    """Redis stops while an acks_late task runs, and comes back: the worker reconnects and takes new tasks.

    It used to exit (``Unrecoverable error: AttributeError(... 'hostname')``: apps/core/broker.py says why)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection

    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = _redis_server(port, tmp_path)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": url,
        "LOG_LEVEL": "INFO",
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "backoffice", "worker", "-I", "tests.core.celery_slow", "-Q", "blip",
         "--concurrency", "2"],
        cwd=Path(__file__).resolve().parents[2], env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    stop_flow = threading.Event()
    try:
        started = [tmp_path / "one", tmp_path / "two"]
        with app.connection_for_write(url) as conn:
            for marker in started:
                app.send_task("tests.core.celery_slow.slow", args=[4, str(marker)], queue="blip", connection=conn)
        deadline = time.monotonic() + 60
        while not all(m.exists() for m in started) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(m.exists() for m in started), "the worker never started the tasks"
        stop_flow = threading.Event()

        def flow() -> None:  # a steady stream of short tasks, as under load
            while not stop_flow.is_set():
                try:
                    with app.connection_for_write(url, transport_options={"max_retries": 0}) as conn:
                        while not stop_flow.is_set():
                            app.send_task("apps.core.tasks.ping", queue="blip", connection=conn, retry=False)
                            time.sleep(0.01)
                except Exception:
                    time.sleep(0.1)

        sender = threading.Thread(target=flow, daemon=True)
        sender.start()
        time.sleep(1)
        server.terminate()  # Redis goes away while both tasks are running, unacknowledged
        server.wait()
        time.sleep(3)
        assert worker.poll() is None, "the worker exited while Redis was down"
        server = _redis_server(port, tmp_path)
        with app.connection_for_write(url) as conn:
            sent = app.send_task("apps.core.tasks.ping", args=["back"], queue="blip", connection=conn)
        assert sent.get(timeout=60) == "back"  # reconnected (result read from the database backend)
        assert worker.poll() is None
    finally:
        stop_flow.set()
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        server.terminate()
        server.wait()
        log.close()
    assert "Unrecoverable error" not in (tmp_path / "worker.log").read_text()


@pytest.mark.parametrize(
    ("transport", "survives"), [("apps.core.broker:Transport", True), ("redis", False)], ids=["ours", "kombu's"]
)
def test_the_clean_up_after_a_lost_broker_connection_cannot_crash_the_worker(tmp_path, transport, survives):
    """What the worker's consumer does when Redis vanishes mid-BRPOP with a message unacknowledged: collect the
    connection, then close it. kombu's transport raises AttributeError there (the worker's "unrecoverable error")."""
    from kombu import Connection, Exchange, Queue

    port = _free_port()
    server = _redis_server(port, tmp_path)
    connection = Connection(f"redis://127.0.0.1:{port}/0", transport=transport)
    try:
        channel = connection.default_channel
        assert channel.client is not None  # type: ignore[attr-defined]  # its client is cached, as a working consumer's is
        Queue("blip.fanout", Exchange("blip.fanout", type="fanout", auto_delete=True), auto_delete=True)(
            channel
        ).declare()
        Queue("blip")(channel).declare()
        connection.Producer(channel).publish({"n": 1}, routing_key="blip")
        assert channel.basic_get("blip", no_ack=False) is not None  # delivered, not acknowledged (acks_late)
        channel.basic_consume("blip", False, lambda message: None, "consumer")
        connection.transport.cycle._register_BRPOP(channel)  # a BRPOP in flight
        server.terminate()
        server.wait()
        with contextlib.suppress(Exception):  # as celery.worker.consumer's on_connection_error_after_connected
            connection.collect(socket_timeout=1.0)
        if survives:
            connection.close()
        else:
            with pytest.raises(AttributeError, match="hostname"):
                connection.close()
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait()
