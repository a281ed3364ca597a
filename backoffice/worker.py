"""``python -m backoffice.worker``: the Celery worker without the ``celery`` command line.

The command line imports click, click-repl and prompt-toolkit and every sub-command before the worker starts
(about 0.4 s of imports, more under load): a restarted worker is back that much sooner (docs/RELIABILITY.md).
The worker itself is Celery's (``app.Worker``: the same bootsteps, signals and ``worker_init`` checks as
``celery -A backoffice worker``); ``manage.py serve`` runs it with the options below. ``celery -A backoffice
worker`` still works for anything this does not offer."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backoffice.worker", description=__doc__)
    parser.add_argument("-Q", "--queues", default="default,compliance,reports", help="comma-separated queues")
    parser.add_argument("--concurrency", type=int, default=2, help="pool processes")
    parser.add_argument("--loglevel", default="INFO")
    args = parser.parse_args(argv)
    from backoffice.celery import app

    worker = app.Worker(
        queues=[q for q in args.queues.split(",") if q],
        concurrency=args.concurrency,
        loglevel=args.loglevel,
        # one worker per deployment and no revokes: mingle (a 1 s wait for neighbours) and gossip buy nothing
        without_mingle=True,
        without_gossip=True,
    )
    worker.start()
    return int(worker.exitcode or 0)


if __name__ == "__main__":
    sys.exit(main())
