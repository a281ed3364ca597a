"""The posting_events benchmark's drainer: a process looping the Celery task's drain, with the bench consumer
registered (Django set up before anything of the project is imported)."""

from __future__ import annotations

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{os.environ.get('BENCH_DATABASE', 'pitboss_bench')}"


def main() -> None:
    import django

    django.setup()
    from apps.wallet import events
    from bench.posting_events import CONSUMER, PAUSE_FILE, register

    register(True)
    while True:
        if PAUSE_FILE.exists() or not events.drain(CONSUMER, budget_seconds=0.5).processed:
            time.sleep(0.05)


if __name__ == "__main__":
    main()
