from __future__ import annotations

import uuid

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
