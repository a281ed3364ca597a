"""A task for the worker tests only (``celery worker -I tests.core.celery_slow``): runs long enough to be in flight
when the broker goes away."""

from __future__ import annotations

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.core.celery_slow.slow", acks_late=True, soft_time_limit=30, time_limit=40)
def slow(seconds: float, started: str) -> str:
    Path(started).write_text("started")
    time.sleep(seconds)
    return "done"
