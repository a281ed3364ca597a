from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.core.serve import serve_options
from apps.core.supervisor import Supervisor, install_signal_handlers


class Command(BaseCommand):
    help = (
        "Run web (gunicorn), a Celery worker and Celery beat in the foreground until Ctrl-C or SIGTERM; a process "
        "that exits is restarted with backoff (apps/core/supervisor.py), the others keep running."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "4")))
        parser.add_argument("--worker-concurrency", type=int, default=2)
        parser.add_argument("--restart-backoff", type=float, default=0.25, help="first restart delay (seconds)")
        parser.add_argument("--restart-backoff-max", type=float, default=30.0, help="longest restart delay")
        parser.add_argument(
            "--restart-stable-after", type=float, default=60.0, help="uptime after which the backoff starts over"
        )
        for option in serve_options():  # registered by the apps (apps.core.serve)
            parser.add_argument(
                option.flag, action="store_true", help=("demo only: " if option.demo_only else "") + option.help
            )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        chosen = [option for option in serve_options() if options[option.dest]]
        for option in chosen:
            if option.demo_only and not settings.DEMO_TOOLS:
                self.stderr.write(f"{option.flag} is a demo tool; DEMO_TOOLS is off here")
                sys.exit(2)
        for option in chosen:
            self.stdout.write(option.start())
        bindir = os.path.dirname(sys.executable)
        commands = {
            "web": [
                os.path.join(bindir, "gunicorn"),
                "backoffice.wsgi:application",
                "--bind",
                options["bind"],
                "--workers",
                str(options["web_workers"]),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
            ],
            "worker": [
                sys.executable,
                "-m",
                "backoffice.worker",  # Celery's worker without the celery command line: back sooner after a restart
                "-Q",
                "default,compliance,reports",
                "--concurrency",
                str(options["worker_concurrency"]),
                "--loglevel",
                "INFO",
            ],
            "beat": [os.path.join(bindir, "celery"), "-A", "backoffice", "beat", "--loglevel", "INFO"],
        }
        supervisor = Supervisor(
            list(commands.items()),
            backoff_start=options["restart_backoff"],
            backoff_max=options["restart_backoff_max"],
            stable_after=options["restart_stable_after"],
        )
        install_signal_handlers(supervisor)
        self.stdout.write(
            f"serving http://{options['bind']}/admin/ (web, worker, beat; a process that dies is restarted); "
            "Ctrl-C stops all"
        )
        supervisor.run()
