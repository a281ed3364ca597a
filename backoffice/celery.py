"""The Celery application: queues ``default``, ``compliance`` and ``reports``; settings under ``CELERY_``."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.base")

app = Celery("backoffice", task_cls="apps.core.tasks:AfterCommitTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "compliance", "reports")]
app.autodiscover_tasks()

# JSON logs with the task id bound (django-structlog's Celery integration).
from django_structlog.celery.steps import DjangoStructLogInitStep  # noqa: E402

app.steps["worker"].add(DjangoStructLogInitStep)

from celery.signals import worker_init  # noqa: E402


@worker_init.connect
def refuse_unbounded_tasks(sender: object = None, **kwargs: object) -> None:
    """A worker does not start while a task could outlive the visibility timeout (it would run twice at once)."""
    from django.core.exceptions import ImproperlyConfigured

    from apps.core.tasks import task_limit_problems

    problems = task_limit_problems(app)
    if problems:
        raise ImproperlyConfigured("Celery task time limits: " + "; ".join(problems))
