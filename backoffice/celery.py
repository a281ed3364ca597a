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
